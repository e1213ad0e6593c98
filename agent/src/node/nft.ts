import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import type { Socket } from 'node:net';
import { originalDestination } from '../native.js';
import type { DecisionRecord, KillScope, KillSwitch, TransparentListener, TransparentOrigin } from '../../../proxy/src/index.js';
import type { NodeCa } from './ca.js';
import type { DestinationResolver } from './destinations.js';
import { destinationResolver, NodeEnforcementError, type NodeEnforcementOptions } from './node-enforcement.js';
import { covered, describeWorkload, stillStopped, type SeenWorkload } from './registry.js';

const TABLE = 'altrace';

// The system's nft by absolute path: a PATH with node_modules/.bin first (npm scripts, npx)
// finds @vercel/nft's unrelated `nft` command before it.
const NFT = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft'].find((p) => existsSync(p)) ?? 'nft';

function nft(args: string[], input?: string): void {
  try {
    execFileSync(NFT, args, { input, stdio: ['pipe', 'ignore', 'pipe'] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new NodeEnforcementError(`nft ${args.join(' ')}: ${stderr || (err as Error).message}`);
  }
}

/** 4 or 6, for an address or a prefix (0.0.0.0/0). */
const family = (address: string) => (isIPv4(address.split('/')[0]!) ? '4' : '6');

/**
 * The rules an init container or a node without cgroup BPF would install, in the node's
 * network namespace: TCP from the governed interfaces to an AI destination (any port of its
 * addresses) is redirected to the transparent listener (conntrack keeps the original, read back
 * with SO_ORIGINAL_DST); a killed source is not redirected and its connect is reset; anything
 * else forwarded to an AI destination (UDP, raw IP) is rejected. Sources in the ungoverned sets
 * (pods not opted in, kubernetes.enforce: labeled) are left alone by both chains.
 */
export function nftRuleset(port: number, interfaces: readonly string[], address?: string): string {
  const hook = (chain: string) => interfaces.map((i) => `    iifname ${JSON.stringify(i)} jump ${chain}`).join('\n');
  // To the listener's own address (DNAT) where it has one of that family: a redirect would go to
  // the incoming interface's primary address, which the listener does not hold when several
  // interfaces are governed (or none, as on CNIs whose host-side veths carry no address).
  const v4 = address && isIPv4(address) ? `dnat ip to ${address}:${port}` : `redirect to :${port}`;
  const v6 = address && !isIPv4(address) && address.includes(':') ? `dnat ip6 to [${address}]:${port}` : `redirect to :${port}`;
  return `table inet ${TABLE} {
  set ai4 { type ipv4_addr; flags interval; auto-merge; }
  set ai6 { type ipv6_addr; flags interval; auto-merge; }
  set killed4 { type ipv4_addr; flags interval; }
  set killed6 { type ipv6_addr; flags interval; }
  set ungoverned4 { type ipv4_addr; }
  set ungoverned6 { type ipv6_addr; }
  chain governed_nat {
    ip saddr @ungoverned4 return
    ip6 saddr @ungoverned6 return
    ip saddr @killed4 return
    ip6 saddr @killed6 return
    ip daddr @ai4 meta l4proto tcp ${v4}
    ip6 daddr @ai6 meta l4proto tcp ${v6}
  }
  chain governed_filter {
    ip saddr @ungoverned4 return
    ip6 saddr @ungoverned6 return
    ip daddr @ai4 meta l4proto tcp reject with tcp reset
    ip6 daddr @ai6 meta l4proto tcp reject with tcp reset
    ip daddr @ai4 reject with icmpx type admin-prohibited
    ip6 daddr @ai6 reject with icmpx type admin-prohibited
  }
  chain prerouting { type nat hook prerouting priority dstnat; policy accept;
${hook('governed_nat')}
  }
  chain forward { type filter hook forward priority filter; policy accept;
${hook('governed_filter')}
  }
}
`;
}

/**
 * Node enforcement without cgroup BPF: nftables on the node. Workloads are known by their
 * address (no cgroup is visible to a forwarded packet), a shadow agent is recorded at its first
 * redirected connection, kills are mirrored into the killed sets in the same control call and
 * the killed address's connections to the listener are ended by the proxy itself.
 */
export class NftEnforcement {
  readonly #o: NodeEnforcementOptions;
  readonly #resolver: DestinationResolver;
  readonly #byAddress = new Map<string, SeenWorkload>();
  readonly #killed = new Set<string>();
  /** Opt-in mode: pods not opted in, by UID, with the addresses put in the ungoverned sets for them. */
  readonly #optedOut = new Map<string, string[]>();
  #proxy: { address: string; port: number } | null = null;
  #installed = false;
  ca: NodeCa | null = null;
  listener: TransparentListener | null = null;

  private constructor(o: NodeEnforcementOptions) {
    this.#o = o;
    // Interval sets merge a net inside another: removing the inner one can then fail, and the
    // outer one still covers it, which is the fail-closed way round.
    const element = (op: 'add' | 'delete', net: string) => {
      try {
        nft([op, 'element', 'inet', TABLE, `ai${family(net)}`, `{ ${net} }`]);
      } catch (err) {
        o.logger.debug({ net, op, err: (err as Error).message }, 'nftables AI destination set not changed');
      }
      return true;
    };
    this.#resolver = destinationResolver(o, { add: (net) => void element('add', net), remove: (net) => element('delete', net) });
  }

  static load(o: NodeEnforcementOptions): NftEnforcement {
    try {
      execFileSync(NFT, ['list', 'tables'], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (err) {
      throw new NodeEnforcementError(`node.enforcement is nftables but nft cannot run here (root and the nftables package are needed): ${(err as Error).message}`);
    }
    return new NftEnforcement(o);
  }

  async activate(proxy: { address: string; port: number }): Promise<void> {
    const { kills, logger, config } = this.#o;
    // A table left by an agent that died is replaced, not added to.
    try {
      nft(['delete', 'table', 'inet', TABLE]);
    } catch {
      // None there.
    }
    nft(['-f', '-'], nftRuleset(proxy.port, config.interfaces, proxy.address));
    this.#installed = true;
    this.#proxy = proxy;
    await Promise.race([this.#resolver.start(), new Promise((r) => setTimeout(r, 2000).unref())]);
    kills.onEngage((k) => this.#engage(k));
    kills.onRelease((scope, target) => this.#release(scope, target));
    if (kills.get('global', '*')) this.#kill(['0.0.0.0/0', '::/0']);
    // Pods already running, as the first listing found them; the watch reports the rest.
    for (const p of this.#o.optIn?.pods() ?? []) this.podEnforcement(p.uid, p);
    logger.info({ interfaces: config.interfaces, proxy: `${proxy.address}:${proxy.port}` }, 'node enforcement (nftables) installed');
  }

  readonly lookup = (peer: { address: string; port: number }, socket: Socket): Omit<TransparentOrigin, 'peer'> | null => {
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const original = typeof fd === 'number' && fd >= 0 ? originalDestination(fd) : null;
    if (!original) return null;
    const provider = this.#resolver.providerOf(original.address);
    let w = this.#byAddress.get(peer.address);
    const first = !w;
    if (!w) {
      w = { id: `shadow-${peer.address}`, address: peer.address, cgroupId: 0n, cgroupPath: null, podUid: null, containerId: null, pid: 0, comm: '', providers: new Set(), firstSeen: Date.now(), lastSeen: 0, connections: 0, refused: 0, agent: null, team: null, netns: new Map(), addresses: new Set([peer.address]), bypassAttempts: 0, capabilities: null, pod: null };
      this.#byAddress.set(peer.address, w);
    }
    this.#namePod(w);
    w.lastSeen = Date.now();
    w.connections++;
    if (provider) w.providers.add(provider);
    if (first) this.#o.onShadow(w);
    return { address: original.address, port: original.port, cgroupId: 0n, netnsCookie: 0n };
  };

  observe(d: DecisionRecord): void {
    // Only a virtual key names an agent; a request attributed to its workload names nothing new.
    if (!d.origin || !d.principal || d.principal.keyId.startsWith('workload:')) return;
    const w = this.#byAddress.get(d.origin.peer);
    if (!w || (w.agent === d.principal.agent && w.team === d.principal.team)) return;
    w.agent = d.principal.agent;
    w.team = d.principal.team;
    if (this.#o.kills.stopping({ agent: w.agent, team: w.team })) this.#kill([w.address!]);
  }

  /** The workload behind a redirected connection, by its address. */
  readonly workloadOf = (origin: TransparentOrigin): SeenWorkload | null => this.#byAddress.get(origin.peer) ?? null;

  /**
   * Its pod, looked up again at each connection (an address changes hands when pods come and go;
   * annotations change): names it, and binds it to the agent the pod declares — or to none, so
   * that a pod that took over the address never inherits the agent (or the kill) of the last.
   */
  #namePod(w: SeenWorkload): void {
    if (!this.#o.podByAddress) return;
    const pod = this.#o.podByAddress(w.address!);
    const same = (a: typeof pod, b: typeof pod) => a === b || (a !== null && b !== null && a.namespace === b.namespace && a.name === b.name && a.agent === b.agent && a.team === b.team);
    if (same(pod, w.pod)) return;
    const podChanged = pod?.namespace !== w.pod?.namespace || pod?.name !== w.pod?.name;
    w.pod = pod;
    w.id = pod ? `shadow-${pod.namespace}.${pod.name}` : `shadow-${w.address}`;
    // A declared agent binds; a pod that declares none keeps what its own virtual key bound, a new pod starts unbound.
    if (pod?.agent || podChanged) {
      w.agent = pod?.agent ?? null;
      w.team = pod?.agent ? pod.team : null;
    }
    // The global switch holds by its own range in the killed sets; this is the address's own.
    const stopped = stillStopped(this.#o.kills, w);
    if (stopped && !this.#killed.has(w.address!)) this.#kill([w.address!]);
    else if (!stopped && this.#killed.has(w.address!)) this.#lift(w.address!);
  }

  /**
   * Opt-in mode (kubernetes.enforce: labeled): a pod not opted in has its addresses in the
   * ungoverned sets; one that comes under governance leaves them (its direct connections to AI
   * addresses are then reset by the filter chain, packet by packet), and one that leaves
   * governance has its connections through the proxy ended. An unjudged pod stays governed.
   */
  podEnforcement(uid: string, pod: { enforce: boolean; addresses: string[] } | null): void {
    if (!this.#o.optIn || !this.#installed) return;
    const marked = this.#optedOut.get(uid) ?? [];
    const next = pod && !pod.enforce ? pod.addresses : [];
    for (const a of marked) if (!next.includes(a)) this.#ungoverned('delete', a);
    for (const a of next) {
      if (marked.includes(a)) continue;
      this.#ungoverned('add', a);
      this.listener?.destroyFrom(a);
    }
    if (next.length > 0) this.#optedOut.set(uid, next);
    else this.#optedOut.delete(uid);
  }

  #ungoverned(op: 'add' | 'delete', address: string): void {
    try {
      nft([op, 'element', 'inet', TABLE, `ungoverned${family(address)}`, `{ ${address} }`]);
    } catch (err) {
      this.#o.logger.warn({ address, op, err: (err as Error).message }, 'the nftables ungoverned set was not changed');
    }
  }

  shadowAgents(): SeenWorkload[] {
    return [...this.#byAddress.values()].filter((w) => w.agent === null);
  }

  caPem(): string | null {
    return this.ca?.certPem ?? null;
  }

  status() {
    return {
      enforcement: 'nftables',
      interfaces: this.#o.config.interfaces,
      proxy: this.#proxy,
      tls: this.#o.config.tls,
      ca_certificate: this.ca?.certPath ?? null,
      destinations: this.#resolver.entries(),
      workloads: [...this.#byAddress.values()].map((w) => describeWorkload(w, this.#killed.has(w.address!))),
      shadow_agents: this.shadowAgents().map((w) => describeWorkload(w, this.#killed.has(w.address!))),
      killed_addresses: [...this.#killed],
      kubernetes: this.#o.kubernetes ? { ...(this.#o.kubernetes.status() as object), enforce: this.#o.optIn ? 'labeled' : 'all', pods_not_opted_in: this.#optedOut.size } : null,
      global_kill: this.#killed.has('0.0.0.0/0'),
    };
  }

  close(): void {
    this.#resolver.close();
    if (!this.#installed) return;
    this.#installed = false;
    try {
      nft(['delete', 'table', 'inet', TABLE]);
    } catch (err) {
      this.#o.logger.warn({ err: (err as Error).message }, 'could not remove the nftables rules');
    }
  }

  #covered(scope: Exclude<KillScope, 'global'>, target: string): SeenWorkload[] {
    return [...this.#byAddress.values()].filter((w) => covered(w, scope, target));
  }

  #engage(k: KillSwitch): void {
    if (k.scope === 'global') this.#kill(['0.0.0.0/0', '::/0']);
    else this.#kill(this.#covered(k.scope, k.target).map((w) => w.address!));
  }

  #kill(addresses: string[]): void {
    for (const a of addresses) {
      try {
        nft(['add', 'element', 'inet', TABLE, `killed${family(a)}`, `{ ${a} }`]);
      } catch (err) {
        // Inside a range already killed (the global switch): already refused.
        if (!this.#killed.has(family(a) === '6' ? '::/0' : '0.0.0.0/0')) throw err;
      }
      this.#killed.add(a);
    }
    // Connections already through to the listener: the proxy holds their other end.
    const all = addresses.some((a) => a.endsWith('/0'));
    for (const w of this.#byAddress.values()) if (all || addresses.includes(w.address!)) this.listener?.destroyFrom(w.address!);
  }

  #lift(a: string): void {
    this.#killed.delete(a);
    try {
      nft(['delete', 'element', 'inet', TABLE, `killed${family(a)}`, `{ ${a} }`]);
    } catch (err) {
      this.#o.logger.warn({ address: a, err: (err as Error).message }, 'could not lift a kill from the nftables set');
    }
  }

  #release(scope: KillScope, target: string): void {
    if (scope === 'global') {
      for (const a of ['0.0.0.0/0', '::/0']) if (this.#killed.has(a)) this.#lift(a);
      return;
    }
    for (const w of this.#covered(scope, target)) {
      if (!stillStopped(this.#o.kills, w) && this.#killed.has(w.address!)) this.#lift(w.address!);
    }
  }
}
