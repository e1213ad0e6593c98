import { existsSync, readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/config.js';
import { AltraceError } from '../errors.js';
import { available, BpfEnforcer, cgroup2Mount, cgroupId, type BpfEvent, type EventSubscription } from '../bpf/index.js';
import type { DecisionRecord, KillScope, KillSwitch, KillSwitches, Logger, PodRef, TlsAction, TransparentOrigin, Upstream } from '../../../proxy/src/index.js';
import { BypassReporter, type BypassReport } from './bypass-reports.js';
import type { NodeCa } from './ca.js';
import { cgroupNetns, netCapabilities } from './cgroup-members.js';
import { DestinationResolver, type DestinationSink } from './destinations.js';
import { parseDnsResponse } from './dns-message.js';
import { InterfaceWatcher, matchesInterface } from './interfaces.js';
import { KillLedger } from './kill-ledger.js';
import { destinationSpecs } from './providers.js';
import { describeWorkload, stillStopped, WorkloadRegistry, type PodLookup, type SeenWorkload } from './registry.js';
import { parseAllowEntry } from '../../../proxy/src/index.js';
import type { PodIdentity } from '../kube/pod-identity.js';
import { formatNet } from '../bpf/address.js';
import { checkNet } from '../bpf/validate.js';

const checkNetText = (text: string) => checkNet('node.strict.allow', text);
import { CgroupIndex } from './workloads.js';
import { McpEgress, type EgressRefusal } from './mcp-egress.js';

export { destinationSpecs } from './providers.js';

/** Node enforcement could not start: names what is missing. */
export class NodeEnforcementError extends AltraceError {
  constructor(message: string) {
    super('ALT_NODE_ENFORCEMENT', message);
  }
}

/** What the transparent listener does with a TLS connection, per node.tls. */
export function tlsAction(mode: Config['node']['tls'], ca: NodeCa | null, origin: TransparentOrigin | null, sni: string | null, logger: Logger): TlsAction {
  const destination = origin ? `${origin.address}:${origin.port}` : null;
  // A client that dialed an address sends no SNI: its leaf names that address.
  const name = sni ?? origin?.address ?? null;
  if (mode === 'terminate' && ca && name) return { action: 'terminate', context: ca.contextFor(name) };
  if (mode === 'passthrough' && origin) {
    logger.warn({ sni, destination, cgroup_id: String(origin.cgroupId) }, 'TLS relayed without governance (node.tls: passthrough): visible by SNI only');
    return { action: 'passthrough' };
  }
  logger.warn({ sni, destination, mode }, 'TLS on the transparent listener refused');
  return { action: 'refuse' };
}

/**
 * `node.cgroup: kubepods`: the Kubernetes pods subtree, where the kubelet puts it with either
 * cgroup driver (systemd `kubepods.slice`, cgroupfs `kubepods`).
 */
export function kubepodsCgroup(mount: string): string {
  for (const dir of ['kubepods.slice', 'kubepods']) if (existsSync(join(mount, dir))) return join(mount, dir);
  throw new NodeEnforcementError(`node.cgroup is kubepods but neither ${join(mount, 'kubepods.slice')} nor ${join(mount, 'kubepods')} exists: is this a Kubernetes node?`);
}

/** This process's cgroup v2 path (below the mount), from /proc/self/cgroup. */
function ownCgroup(): string | null {
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3) : null;
}

/** The destination set's resolver for either mode, logging a name that does not resolve once at warn. */
export function destinationResolver(o: NodeEnforcementOptions, sink: DestinationSink): DestinationResolver {
  const warned = new Set<string>();
  return new DestinationResolver(destinationSpecs(o.upstreams, o.config.destinations ?? []), sink, {
    dns: new Resolver({ timeout: 2000, tries: 2 }),
    minTtlS: o.config.resolve_min_ttl_s,
    maxTtlS: o.config.resolve_max_ttl_s,
    observePrivate: o.config.dns_observe_private,
    onError: (host, err) => {
      const level = warned.has(host) ? 'debug' : 'warn';
      warned.add(host);
      o.logger[level]({ host, err: err.message }, 'AI destination did not resolve; its last addresses stay in the set');
    },
  });
}

export interface NodeEnforcementOptions {
  config: Config['node'];
  upstreams: ReadonlyMap<string, Upstream>;
  kills: KillSwitches;
  logger: Logger;
  /** Where the kill ledger lives (the agent's state directory). */
  stateDir: string;
  /** A workload no virtual key has named made its first AI-bound connection. */
  onShadow(w: SeenWorkload): void;
  /** A packet the backstop dropped, or a connect strict mode refused (at most one a minute per workload and destination). */
  onBypass?(r: BypassReport): void;
  /** Every attempt, for the metric. */
  onBypassAttempt?(verdict: BypassReport['verdict'], w: SeenWorkload | null): void;
  /** A connect or datagram of a confined MCP server refused (at most one a minute per relay and destination). */
  onEgressRefused?(r: EgressRefusal): void;
  onEgressAttempt?(server: string): void;
  /** A governed workload's processes hold CAP_NET_RAW or CAP_NET_ADMIN (once per workload). */
  onCapabilities?(w: SeenWorkload): void;
  /** Its pod, from the cluster (kubernetes.enabled): names the workload and may declare its agent. */
  podOf?: PodLookup;
  /** Its pod by its address (nftables: a forwarded packet shows no cgroup, only the pod IP). */
  podByAddress?: (address: string) => PodRef | null;
  /** What the pod watch says of itself, for bpf status. */
  kubernetes?: { status(): unknown };
  /** Opt-in mode (kubernetes.enforce: labeled): only pods labelled altrace.io/enforce=true (or in
   *  such a namespace) are governed; `pods` lists this node's pods as the watch knows them. */
  optIn?: { pods(): PodIdentity[] };
}

/** The interfaces the backstop watches by default: the host side of the common CNIs' pod links. */
const KUBERNETES_POD_INTERFACES = ['veth*', 'cali*', 'lxc*', 'gke*', 'eni*', 'azv*'];

/**
 * The agent side of node enforcement: loads the BPF programs, keeps the destination set current
 * (resolved, observed in pods' DNS answers, published, configured), points redirected
 * connections at the transparent listener, watches pods' host-side interfaces with the packet
 * backstop, learns which cgroup is which agent, and mirrors kill switches into the kernel in the
 * same call that engages them (then tears down the killed workloads' open connections, one pass
 * per network namespace their processes are in now).
 */
export class NodeEnforcement {
  readonly #o: NodeEnforcementOptions;
  readonly #bpf: BpfEnforcer;
  readonly #mount: string;
  readonly #governed: string;
  readonly #registry: WorkloadRegistry;
  readonly #resolver: DestinationResolver;
  readonly #ledger: KillLedger;
  readonly #killedCgroups = new Set<bigint>();
  readonly #bypass: BypassReporter;
  readonly #backstopPatterns: string[];
  readonly #strictCgroups: string[];
  #interfaces: InterfaceWatcher | null = null;
  #pruneTimer: NodeJS.Timeout | null = null;
  /** Opt-in mode: pods not opted in, by UID, with the cgroups and addresses marked for them (none yet: their cgroup is still to come). */
  readonly #optedOut = new Map<string, { cgroups: bigint[]; addresses: string[] }>();
  #optInTimer: NodeJS.Timeout | null = null;
  #index: CgroupIndex;
  #events: EventSubscription | null = null;
  #dns: EventSubscription | null = null;
  #eventsSeen = 0;
  #dnsObserved = 0;
  #proxy: { address: string; port: number } | null = null;
  /** Set when node.tls is terminate: agents trust its certificate to be governed over TLS. */
  ca: NodeCa | null = null;
  /** The egress confinement of the MCP servers altrace mcp wrap launches. */
  readonly mcpEgress: McpEgress;

  private constructor(o: NodeEnforcementOptions, bpf: BpfEnforcer, mount: string, governed: string) {
    this.#o = o;
    this.#bpf = bpf;
    this.#mount = mount;
    this.#governed = governed;
    this.#index = new CgroupIndex(mount, governed);
    this.#registry = new WorkloadRegistry(this.#index, Date.now, o.podOf);
    this.#resolver = destinationResolver(o, { add: (net, source) => bpf.addDestination(net, source), remove: (net) => bpf.removeDestination(net) });
    this.#ledger = new KillLedger(o.stateDir);
    this.#bypass = new BypassReporter((r) => o.onBypass?.(r));
    this.#backstopPatterns = o.config.backstop_interfaces ?? (o.config.cgroup === 'kubepods' ? KUBERNETES_POD_INTERFACES : []);
    this.#strictCgroups = o.config.strict.cgroups.map((c) => (c === '*' ? governed : isAbsolute(c) ? c : join(governed, c)));
    this.mcpEgress = new McpEgress({
      bpf,
      governed,
      logger: o.logger,
      dns: new Resolver({ timeout: 2000, tries: 2 }),
      minTtlS: o.config.resolve_min_ttl_s,
      maxTtlS: o.config.resolve_max_ttl_s,
      onRefused: (r) => o.onEgressRefused?.(r),
      onAttempt: (server) => o.onEgressAttempt?.(server),
    });
  }

  /** Loads the programs (nothing is attached yet); refuses with every reason BPF cannot run. */
  static load(o: NodeEnforcementOptions): NodeEnforcement {
    const why = available();
    if (!why.ok) throw new NodeEnforcementError(`node.enforcement is bpf but BPF cannot run here: ${why.reason}`);
    const mount = cgroup2Mount()!;
    const configured = o.config.cgroup!;
    const governed = configured === 'kubepods' ? kubepodsCgroup(mount) : isAbsolute(configured) && configured.startsWith(mount) ? configured : join(mount, configured);
    try {
      cgroupId(governed);
    } catch (err) {
      throw new NodeEnforcementError(`node.cgroup ${configured}: ${(err as Error).message}`);
    }
    const bpf = BpfEnforcer.load(o.config.pin_dir ? { pinDir: o.config.pin_dir } : {});
    return new NodeEnforcement(o, bpf, mount, governed);
  }

  /**
   * Starts enforcing with the transparent listener at proxy: destination set, proxy address,
   * strict mode, events and kill mirror first (the kills a previous agent left in pinned maps
   * reconciled with the switches as they are now), the cgroup attachment and the backstop last,
   * so nothing is redirected to a listener that is not there yet.
   */
  async activate(proxy: { address: string; port: number }): Promise<void> {
    const { config, kills, logger } = this.#o;
    this.#bpf.setProxyAddress(proxy, { allowLoopback: config.allow_loopback_proxy });
    this.#proxy = proxy;
    this.#applyStrict(proxy);
    await this.mcpEgress.start();
    this.#startOptIn();
    // Literal addresses are in at once; FQDNs get two seconds before start-up goes on without them.
    await Promise.race([this.#resolver.start(), new Promise((r) => setTimeout(r, 2000).unref())]);
    // A throw in these would end in the addon's thread-safe call and vanish: each says so instead.
    this.#events = this.#bpf.events((e) => this.#guarded('a kernel event', () => this.#onEvent(e)), { keepAlive: false });
    this.#dns = this.#bpf.dnsAnswers((a) => this.#guarded('a DNS answer', () => this.#onDnsAnswer(a.message)));
    kills.onEngage((k) => this.#engage(k));
    kills.onRelease((scope, target) => this.#release(scope, target));
    this.#restoreKills();
    if (kills.get('global', '*')) this.#bpf.kill('global');
    // The agent's own connections go straight upstream, also when it runs inside the governed subtree.
    const own = ownCgroup();
    if (own && join(this.#mount, own).startsWith(this.#governed + '/')) this.#bpf.exempt({ cgroupId: cgroupId(join(this.#mount, own)) });
    this.#bpf.attachCgroup(this.#governed);
    this.#startBackstop();
    this.#pruneLater();
    logger.info(
      { cgroup: this.#governed, proxy: `${proxy.address}:${proxy.port}`, destinations: this.#resolver.entries().length, backstop_interfaces: this.#backstopPatterns, strict_cgroups: this.#strictCgroups },
      'node enforcement attached',
    );
    if (this.#backstopPatterns.length === 0) logger.warn('packet backstop off (node.backstop_interfaces is empty): raw and packet sockets, and sockets made outside the governed cgroup, can reach AI destinations from a pod’s own network namespace');
  }

  #applyStrict(proxy: { address: string; port: number }): void {
    const { strict } = this.#o.config;
    const wanted = new Set<bigint>();
    for (const dir of this.#strictCgroups) {
      try {
        wanted.add(cgroupId(dir));
      } catch (err) {
        throw new NodeEnforcementError(`node.strict.cgroups ${dir}: ${(err as Error).message}`);
      }
    }
    for (const id of wanted) this.#bpf.setStrict(id, true);
    for (const id of this.#bpf.strictCgroups()) if (!wanted.has(id)) this.#bpf.setStrict(id, false);
    if (this.#strictCgroups.length === 0 && strict.interfaces.length === 0) {
      for (const net of this.#bpf.allowedNets()) this.#bpf.disallow(net);
      return;
    }
    // One kernel entry per net: entries naming the same net merge their ports (none: any port);
    // the transparent listener is always among them.
    const merged = new Map<string, Set<number> | 'any'>();
    for (const entry of [...strict.allow.map(parseAllowEntry), { net: proxy.address, ports: [proxy.port] }]) {
      const net = formatNet(checkNetText(entry.net));
      const before = merged.get(net);
      merged.set(net, before === 'any' || entry.ports.length === 0 ? 'any' : new Set([...(before ?? []), ...entry.ports]));
    }
    for (const [net, ports] of merged) {
      if (ports !== 'any' && ports.size > 8) throw new NodeEnforcementError(`node.strict.allow names ${ports.size} ports for ${net}: at most 8 per address or CIDR`);
      this.#bpf.allow(net, ports === 'any' ? [] : [...ports]);
    }
    // Pinned maps keep what an earlier configuration put there: what this one does not name goes.
    for (const net of this.#bpf.allowedNets()) if (!merged.has(net)) this.#bpf.disallow(net);
  }

  #startBackstop(): void {
    if (this.#backstopPatterns.length === 0) return;
    const { logger, config } = this.#o;
    this.#interfaces = new InterfaceWatcher(
      this.#backstopPatterns,
      (i) => {
        try {
          this.#bpf.watchInterface(i.ifindex, { strict: matchesInterface(i.name, config.strict.interfaces) });
          logger.debug({ interface: i.name, ifindex: i.ifindex }, 'packet backstop attached');
        } catch (err) {
          logger.error({ interface: i.name, err: (err as Error).message }, 'packet backstop could not attach to an interface: its pod is covered by the socket programs only');
        }
      },
      (i) => void this.#bpf.unwatchInterface(i.ifindex),
    );
    this.#interfaces.start(1000);
    // An interface an earlier agent watched and this one does not (gone, or no longer matching).
    const watched = this.#interfaces.names();
    for (const { ifindex } of this.#bpf.watchedInterfaces()) if (!watched.has(ifindex)) this.#bpf.unwatchInterface(ifindex);
  }

  /**
   * Destinations an earlier agent left in the pinned set that this one does not hold, removed
   * once every address it resolves has had its longest TTL to come back: kept until then, since
   * an agent may still connect to one from its cache.
   */
  #pruneLater(): void {
    const { resolve_max_ttl_s: max, resolve_min_ttl_s: min } = this.#o.config;
    const timer = setTimeout(() => {
      const held = new Set(this.#resolver.entries().map((e) => e.net));
      for (const net of this.#bpf.destinationNets()) if (!held.has(net)) this.#bpf.removeDestination(net);
    }, (max + min) * 1000);
    timer.unref();
    this.#pruneTimer = timer;
  }

  /**
   * After a restart with pinned maps, the deny map still holds what the previous agent killed.
   * Each entry is matched to its owner in the kill ledger: kept while a switch still stops it,
   * lifted when the switch was released meanwhile (or the cgroup is gone), and kept, fail
   * closed, when nothing says whose it is.
   */
  #restoreKills(): void {
    const { kills, logger } = this.#o;
    for (const target of this.#bpf.killed()) {
      if (target === 'global') {
        if (!kills.get('global', '*')) this.#bpf.unkill('global');
        continue;
      }
      const entry = this.#ledger.get(target);
      if (!entry) {
        this.#killedCgroups.add(target);
        logger.warn({ cgroup_id: String(target) }, 'the pinned deny map holds a cgroup the kill ledger does not name: it stays killed');
        continue;
      }
      const w = this.#registry.restore(target, entry);
      const gone = entry.cgroupPath !== null && !existsSync(join(this.#mount, entry.cgroupPath));
      if (!gone && stillStopped(kills, w)) {
        this.#killedCgroups.add(target);
        continue;
      }
      this.#bpf.unkill(target);
      this.#ledger.forget([target]);
    }
  }

  /** The original destination of a connection the transparent listener accepted. */
  readonly lookup = (peer: { address: string; port: number }): Omit<TransparentOrigin, 'peer'> | null => {
    const o = this.#bpf.originalDestination(peer);
    if (!o) return null;
    this.#registry.learnAddress(o.cgroupId, peer.address);
    return { address: o.address, port: o.port, cgroupId: o.cgroupId, netnsCookie: o.netnsCookie };
  };

  /** A governed request that came through the transparent listener names its cgroup's agent. */
  observe(d: DecisionRecord): void {
    // Only a virtual key names an agent; a request attributed to its workload names nothing new.
    if (!d.origin || !d.principal || d.principal.keyId.startsWith('workload:')) return;
    if (!this.#registry.bind(d.origin.cgroupId, d.principal.agent, d.principal.team)) return;
    if (this.#o.kills.stopping({ agent: d.principal.agent, team: d.principal.team })) this.#killWorkloads([this.#registry.get(d.origin.cgroupId)!]);
  }

  caPem(): string | null {
    return this.ca?.certPem ?? null;
  }

  /**
   * Opt-in mode: every pod this node runs is judged (a pod the agent has not judged yet is
   * governed: fail closed), the marks an earlier agent pinned are reconciled, and pods whose
   * cgroup the kubelet has not made yet are looked for again each second.
   */
  #startOptIn(): void {
    const optIn = this.#o.optIn;
    this.#bpf.setOptIn(optIn !== undefined);
    if (!optIn) {
      for (const id of this.#bpf.ungovernedCgroups()) this.#bpf.setUngoverned(id, false);
      for (const a of this.#bpf.ungovernedAddresses()) this.#bpf.setUngovernedAddress(a, false);
      return;
    }
    for (const p of optIn.pods()) this.podEnforcement(p.uid, p);
    const cgroups = new Set([...this.#optedOut.values()].flatMap((o) => o.cgroups));
    const addresses = new Set([...this.#optedOut.values()].flatMap((o) => o.addresses));
    for (const id of this.#bpf.ungovernedCgroups()) if (!cgroups.has(id)) this.#bpf.setUngoverned(id, false);
    for (const a of this.#bpf.ungovernedAddresses()) if (!addresses.has(a)) this.#bpf.setUngovernedAddress(a, false);
    this.#optInTimer = setInterval(() => {
      for (const [uid, marked] of this.#optedOut) if (marked.cgroups.length === 0) this.#markOptedOut(uid, marked);
    }, 1000);
    this.#optInTimer.unref();
  }

  /** Opt-in mode: a pod opted in or out (its label or its namespace's changed), appeared or went. */
  podEnforcement(uid: string, pod: Pick<PodIdentity, 'enforce' | 'addresses'> | null): void {
    if (!this.#o.optIn) return;
    const marked = this.#optedOut.get(uid);
    if (pod && !pod.enforce) {
      const next = marked ?? { cgroups: [], addresses: [] };
      for (const a of next.addresses) if (!pod.addresses.includes(a)) this.#bpf.setUngovernedAddress(a, false);
      next.addresses = pod.addresses;
      for (const a of next.addresses) this.#bpf.setUngovernedAddress(a, true);
      this.#optedOut.set(uid, next);
      this.#markOptedOut(uid, next);
      // Left governance: its connections to the proxy end, and it reconnects directly.
      if (!marked && next.cgroups.length > 0) void this.#endConnections(next.cgroups, 'redirected');
      return;
    }
    if (!marked) return;
    // Opted in, or gone: governed again from this moment. Its open direct AI connections went
    // around the proxy: they end (the client reconnects, and is redirected).
    for (const id of marked.cgroups) this.#bpf.setUngoverned(id, false);
    for (const a of marked.addresses) this.#bpf.setUngovernedAddress(a, false);
    this.#optedOut.delete(uid);
    if (pod) void this.#endConnections(marked.cgroups, 'direct');
  }

  async #endConnections(cgroups: bigint[], ends: 'direct' | 'redirected'): Promise<void> {
    const paths = new Set(cgroups.flatMap((id) => this.#memberNetns(this.#index.identify(id).cgroupPath)));
    for (const id of cgroups) this.#bpf.setRegoverned(id, ends);
    try {
      for (const ns of paths) {
        const r = await this.#bpf.destroyKilledSockets(ns).catch((err: Error) => (this.#o.logger.warn({ netns: ns, ends, err: err.message }, 'could not end the AI connections of a pod whose governance changed'), null));
        if (r) this.#o.logger.info({ netns: ns, ends, destroyed: r.destroyed }, 'AI connections of a pod whose governance changed ended');
      }
    } finally {
      for (const id of cgroups) this.#bpf.setRegoverned(id, null);
    }
  }

  /** The network namespaces a cgroup's processes are in now, as /proc paths (one per namespace). */
  #memberNetns(cgroupPath: string | null): string[] {
    return cgroupPath ? [...cgroupNetns(join(this.#mount, cgroupPath)).values()] : [];
  }

  #markOptedOut(uid: string, marked: { cgroups: bigint[]; addresses: string[] }): void {
    const found = this.#index.findPod(uid).map((c) => c.id);
    for (const id of found) if (!marked.cgroups.includes(id)) this.#bpf.setUngoverned(id, true);
    if (found.length > 0) marked.cgroups = found;
  }

  /** A pod's identity changed (an annotation, its namespace's defaults): a newly declared agent's kill reaches its cgroups now. */
  podChanged(podUid: string, pod: PodRef | null): void {
    for (const w of this.#registry.podChanged(podUid, pod)) {
      if (w.agent && this.#o.kills.stopping({ agent: w.agent, team: w.team ?? '' })) this.#killWorkloads([w]);
      else if (this.#killedCgroups.has(w.cgroupId) && !stillStopped(this.#o.kills, w)) {
        this.#bpf.unkill(w.cgroupId);
        this.#killedCgroups.delete(w.cgroupId);
        this.#ledger.forget([w.cgroupId]);
      }
    }
  }

  /** The workload behind a redirected connection, by its cgroup. */
  readonly workloadOf = (origin: TransparentOrigin): SeenWorkload | null => this.#registry.get(origin.cgroupId) ?? null;

  /** Workloads no virtual key has named: the shadow agents. */
  shadowAgents(): SeenWorkload[] {
    return this.#registry.list().filter((w) => w.agent === null);
  }

  status() {
    const destinations = this.#resolver.entries();
    const watched = this.#bpf.watchedInterfaces();
    const names = this.#interfaces?.names() ?? new Map<number, string>();
    const workloads = this.#registry.list().map((w) => this.#describe(w));
    return {
      enforcement: 'bpf',
      cgroup: this.#governed,
      proxy: this.#proxy,
      tls: this.#o.config.tls,
      ca_certificate: this.ca?.certPath ?? null,
      programs: this.#bpf.programs(),
      destinations,
      backstop: { patterns: this.#backstopPatterns, interfaces: watched.map((i) => ({ ...i, name: names.get(i.ifindex) ?? null })) },
      strict: { cgroups: this.#strictCgroups, interfaces: this.#o.config.strict.interfaces, allow: this.#o.config.strict.allow },
      mcp_egress: this.mcpEgress.status(),
      // Entries in the maps the agent drives (the kernel keeps no count of its own for a hash map).
      maps: { alt_dest_nets: destinations.length, alt_deny: this.#killedCgroups.size + (this.#bpf.isKilled('global') ? 1 : 0), alt_ifaces: watched.length },
      stats: this.#bpf.stats(),
      events_seen: this.#eventsSeen,
      dns_answers_observed: this.#dnsObserved,
      workloads,
      shadow_agents: workloads.filter((w) => w.agent === null),
      killed_cgroups: [...this.#killedCgroups].map(String),
      global_kill: this.#bpf.isKilled('global'),
      capability_warnings: workloads.filter((w) => w.capabilities && (w.capabilities.net_raw || w.capabilities.net_admin)).map((w) => w.id),
      kubernetes: this.#o.kubernetes ? { ...(this.#o.kubernetes.status() as object), enforce: this.#o.optIn ? 'labeled' : 'all', pods_not_opted_in: this.#optedOut.size } : null,
    };
  }

  #describe(w: SeenWorkload) {
    return describeWorkload(w, this.#killedCgroups.has(w.cgroupId));
  }

  close(): void {
    if (this.#pruneTimer) clearTimeout(this.#pruneTimer);
    if (this.#optInTimer) clearInterval(this.#optInTimer);
    this.#interfaces?.stop();
    this.#events?.stop();
    this.#dns?.stop();
    this.#resolver.close();
    this.mcpEgress.stop();
    this.#bpf.close();
  }

  #onEvent(e: BpfEvent): void {
    this.#eventsSeen++;
    if (e.kind === 'egress_refused') return this.mcpEgress.onEvent(e);
    const provider = this.#resolver.providerOf(e.destination.address);
    if (e.kind === 'bypass_dropped' || e.kind === 'strict_dropped') return this.#onPacketDrop(e, provider);
    const { workload, first } = this.#registry.observe(e, provider);
    if (e.kind === 'strict_refused') this.#reportBypass(e, workload, 'cgroup', provider);
    if (first) this.#checkCapabilities(workload);
    if (first && workload.agent === null && e.kind !== 'strict_refused') this.#o.onShadow(workload);
  }

  #guarded(what: string, handle: () => void): void {
    try {
      handle();
    } catch (err) {
      this.#o.logger.error({ err: (err as Error).message }, `handling ${what} failed`);
    }
  }

  #onPacketDrop(e: BpfEvent, provider: string | null): void {
    // The cgroup backstop knows the socket's cgroup; a host-side interface knows only the address.
    const workload = (e.cgroupId !== 0n ? this.#registry.ensure(e.cgroupId) : undefined) ?? (e.source ? this.#registry.byAddress(e.source.address) : undefined) ?? null;
    const seenAt = e.ifindex !== 0 && e.cgroupId === 0n ? (this.#interfaces?.names().get(e.ifindex) ?? `ifindex ${e.ifindex}`) : 'cgroup';
    this.#reportBypass(e, workload, seenAt, provider);
  }

  #reportBypass(e: BpfEvent, workload: SeenWorkload | null, seenAt: string, provider: string | null): void {
    this.#o.onBypassAttempt?.(e.kind as BypassReport['verdict'], workload);
    this.#bypass.handle(e, workload, seenAt, provider);
  }

  #checkCapabilities(w: SeenWorkload): void {
    if (!w.cgroupPath) return;
    const caps = netCapabilities(join(this.#mount, w.cgroupPath));
    w.capabilities = { netRaw: caps.netRaw, netAdmin: caps.netAdmin };
    if (caps.netRaw || caps.netAdmin) this.#o.onCapabilities?.(w);
  }

  #onDnsAnswer(message: Buffer): void {
    const response = parseDnsResponse(message);
    if (!response || response.answers.length === 0) return;
    const provider = this.#resolver.observe(response.names, response.answers);
    this.#o.logger.debug({ name: response.name, answers: response.answers.length, provider }, 'DNS answer seen in a governed pod');
    if (provider !== null) this.#dnsObserved++;
  }

  #engage(k: KillSwitch): void {
    if (k.scope === 'global') {
      this.#bpf.kill('global');
      this.#teardown(this.#registry.list());
      return;
    }
    this.#killWorkloads(this.#registry.cgroupsCovered(k.scope, k.target));
  }

  #killWorkloads(workloads: SeenWorkload[]): void {
    // Whose each entry is goes to disk first: a restarted agent must be able to lift it. A disk
    // that refuses must not stop the kill itself (a restart then keeps the entry, fail closed).
    try {
      this.#ledger.record(workloads.map((w) => ({ cgroupId: String(w.cgroupId), cgroupPath: w.cgroupPath, id: w.id, agent: w.agent, team: w.team })));
    } catch (err) {
      this.#o.logger.error({ err: (err as Error).message }, 'the kill ledger could not be written; the kill is applied in the kernel all the same');
    }
    for (const w of workloads) {
      this.#bpf.kill(w.cgroupId);
      this.#killedCgroups.add(w.cgroupId);
    }
    this.#teardown(workloads);
  }

  #release(scope: KillScope, target: string): void {
    if (scope === 'global') {
      this.#bpf.unkill('global');
      return;
    }
    const lifted: bigint[] = [];
    for (const w of this.#registry.cgroupsCovered(scope, target)) {
      if (stillStopped(this.#o.kills, w)) continue;
      this.#bpf.unkill(w.cgroupId);
      this.#killedCgroups.delete(w.cgroupId);
      lifted.push(w.cgroupId);
    }
    this.#ledger.forget(lifted);
  }

  /**
   * One socket-destroy pass per network namespace the workloads' processes are in now (read
   * from their cgroups' members), plus those their connects were seen from, for a cgroup whose
   * path is unknown. Never one remembered pid alone: it may have exited while another process
   * holds a connection open.
   */
  #teardown(workloads: SeenWorkload[]): void {
    const netns = new Set<string>();
    for (const w of workloads) {
      for (const path of this.#memberNetns(w.cgroupPath)) netns.add(path);
      for (const pid of w.netns.values()) if (existsSync(`/proc/${pid}`)) netns.add(`/proc/${pid}/ns/net`);
    }
    // The same namespace reached by a member and by a remembered pid is walked twice: harmless (the second pass finds nothing left).
    for (const path of netns) {
      this.#bpf.destroyKilledSockets(path).then(
        (r) => this.#o.logger.info({ netns: path, destroyed: r.destroyed }, 'killed workload connections torn down'),
        (err: Error) => this.#o.logger.warn({ netns: path, err: err.message }, 'could not tear down a killed workload’s connections'),
      );
    }
  }
}
