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
 * else forwarded to an AI destination (UDP, raw IP) is rejected.
 */
export function nftRuleset(port: number, interfaces: readonly string[]): string {
  const hook = (chain: string) => interfaces.map((i) => `    iifname ${JSON.stringify(i)} jump ${chain}`).join('\n');
  return `table inet ${TABLE} {
  set ai4 { type ipv4_addr; flags interval; auto-merge; }
  set ai6 { type ipv6_addr; flags interval; auto-merge; }
  set killed4 { type ipv4_addr; flags interval; }
  set killed6 { type ipv6_addr; flags interval; }
  chain governed_nat {
    ip saddr @killed4 return
    ip6 saddr @killed6 return
    ip daddr @ai4 meta l4proto tcp redirect to :${port}
    ip6 daddr @ai6 meta l4proto tcp redirect to :${port}
  }
  chain governed_filter {
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
    nft(['-f', '-'], nftRuleset(proxy.port, config.interfaces));
    this.#installed = true;
    this.#proxy = proxy;
    await Promise.race([this.#resolver.start(), new Promise((r) => setTimeout(r, 2000).unref())]);
    kills.onEngage((k) => this.#engage(k));
    kills.onRelease((scope, target) => this.#release(scope, target));
    if (kills.get('global', '*')) this.#kill(['0.0.0.0/0', '::/0']);
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

  /** Its pod, looked up again at each connection (an address changes hands when pods come and go; annotations change): names it, and a declared agent binds it. */
  #namePod(w: SeenWorkload): void {
    const pod = this.#o.podByAddress?.(w.address!) ?? null;
    if (pod === w.pod || (pod === null && w.pod === null)) return;
    w.pod = pod;
    w.id = pod ? `shadow-${pod.namespace}.${pod.name}` : `shadow-${w.address}`;
    if (pod?.agent) {
      w.agent = pod.agent;
      w.team = pod.team;
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

  #release(scope: KillScope, target: string): void {
    const lift = (a: string) => {
      this.#killed.delete(a);
      try {
        nft(['delete', 'element', 'inet', TABLE, `killed${family(a)}`, `{ ${a} }`]);
      } catch (err) {
        this.#o.logger.warn({ address: a, err: (err as Error).message }, 'could not lift a kill from the nftables set');
      }
    };
    if (scope === 'global') {
      for (const a of ['0.0.0.0/0', '::/0']) if (this.#killed.has(a)) lift(a);
      return;
    }
    for (const w of this.#covered(scope, target)) {
      if (!stillStopped(this.#o.kills, w) && this.#killed.has(w.address!)) lift(w.address!);
    }
  }
}
