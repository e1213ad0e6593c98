import { existsSync, readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { isAbsolute, join } from 'node:path';
import type { Config } from '../config/config.js';
import { AltraceError } from '../errors.js';
import { available, BpfEnforcer, cgroup2Mount, cgroupId, type BpfEvent, type EventSubscription } from '../bpf/index.js';
import type { DecisionRecord, KillScope, KillSwitch, KillSwitches, Logger, TlsAction, TransparentOrigin, Upstream } from '../../../proxy/src/index.js';
import type { NodeCa } from './ca.js';
import { DestinationResolver, parseHostPort, type DestinationSink, type DestinationSpec } from './destinations.js';
import { stillStopped, WorkloadRegistry, type SeenWorkload } from './registry.js';
import { CgroupIndex } from './workloads.js';

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

/** The providers' public hosts: AI destinations whatever the upstream overrides say. */
const PROVIDER_HOSTS: DestinationSpec[] = [
  { provider: 'openai', host: 'api.openai.com', port: 443 },
  { provider: 'anthropic', host: 'api.anthropic.com', port: 443 },
  { provider: 'gemini', host: 'generativelanguage.googleapis.com', port: 443 },
];

/** The destination set: provider hosts, every configured upstream's host, and extras. */
export function destinationSpecs(upstreams: ReadonlyMap<string, Upstream>, extra: readonly string[]): DestinationSpec[] {
  const specs = [...PROVIDER_HOSTS];
  for (const u of upstreams.values()) {
    const port = Number(u.base.port) || (u.base.protocol === 'https:' ? 443 : 80);
    specs.push({ provider: u.name, host: u.base.hostname.replace(/^\[|\]$/g, ''), port });
  }
  for (const e of extra) specs.push({ provider: 'configured', ...parseHostPort(e) });
  const seen = new Set<string>();
  return specs.filter((s) => (seen.has(`${s.host}|${s.port}`) ? false : (seen.add(`${s.host}|${s.port}`), true)));
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
  /** A workload no virtual key has named made its first AI-bound connection. */
  onShadow(w: SeenWorkload): void;
}

/**
 * The agent side of node enforcement: loads the BPF programs, keeps the destination set
 * current, points redirected connections at the transparent listener, learns which cgroup is
 * which agent, and mirrors kill switches into the kernel in the same call that engages them
 * (then tears down the killed workloads' open connections, one pass per network namespace).
 */
export class NodeEnforcement {
  readonly #o: NodeEnforcementOptions;
  readonly #bpf: BpfEnforcer;
  readonly #governed: string;
  readonly #registry: WorkloadRegistry;
  readonly #resolver: DestinationResolver;
  readonly #killedCgroups = new Set<bigint>();
  #events: EventSubscription | null = null;
  #eventsSeen = 0;
  #proxy: { address: string; port: number } | null = null;
  /** Set when node.tls is terminate: agents trust its certificate to be governed over TLS. */
  ca: NodeCa | null = null;

  private constructor(o: NodeEnforcementOptions, bpf: BpfEnforcer, mount: string, governed: string) {
    this.#o = o;
    this.#bpf = bpf;
    this.#governed = governed;
    this.#registry = new WorkloadRegistry(new CgroupIndex(mount, governed));
    this.#resolver = destinationResolver(o, { add: (a, p) => bpf.addDestination(a, p), remove: (a, p) => bpf.removeDestination(a, p) });
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
   * events and kill mirror first, the cgroup attachment last, so nothing is redirected to a
   * listener that is not there yet.
   */
  async activate(proxy: { address: string; port: number }): Promise<void> {
    const { config, kills, logger } = this.#o;
    this.#bpf.setProxyAddress(proxy, { allowLoopback: config.allow_loopback_proxy });
    this.#proxy = proxy;
    // Literal addresses are in at once; FQDNs get two seconds before start-up goes on without them.
    await Promise.race([this.#resolver.start(), new Promise((r) => setTimeout(r, 2000).unref())]);
    this.#events = this.#bpf.events((e) => this.#onEvent(e), { keepAlive: false });
    kills.onEngage((k) => this.#engage(k));
    kills.onRelease((scope, target) => this.#release(scope, target));
    if (kills.get('global', '*')) this.#bpf.kill('global');
    // The agent's own connections go straight upstream, also when it runs inside the governed subtree.
    const own = ownCgroup();
    const mount = cgroup2Mount()!;
    if (own && join(mount, own).startsWith(this.#governed + '/')) this.#bpf.exempt({ cgroupId: cgroupId(join(mount, own)) });
    this.#bpf.attachCgroup(this.#governed);
    logger.info({ cgroup: this.#governed, proxy: `${proxy.address}:${proxy.port}`, destinations: this.#resolver.entries().length }, 'node enforcement attached');
  }

  /** The original destination of a connection the transparent listener accepted. */
  readonly lookup = (peer: { address: string; port: number }): Omit<TransparentOrigin, 'peer'> | null => {
    const o = this.#bpf.originalDestination(peer);
    return o ? { address: o.address, port: o.port, cgroupId: o.cgroupId, netnsCookie: o.netnsCookie } : null;
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

  /** The workload behind a redirected connection, by its cgroup. */
  readonly workloadOf = (origin: TransparentOrigin): SeenWorkload | null => this.#registry.get(origin.cgroupId) ?? null;

  /** Workloads no virtual key has named: the shadow agents. */
  shadowAgents(): SeenWorkload[] {
    return this.#registry.list().filter((w) => w.agent === null);
  }

  status() {
    const destinations = this.#resolver.entries();
    return {
      enforcement: 'bpf',
      cgroup: this.#governed,
      proxy: this.#proxy,
      tls: this.#o.config.tls,
      ca_certificate: this.ca?.certPath ?? null,
      programs: this.#bpf.programs(),
      destinations,
      // Entries in the maps the agent drives (the kernel keeps no count of its own for a hash map).
      maps: { alt_dests: destinations.length, alt_deny: this.#killedCgroups.size + (this.#bpf.isKilled('global') ? 1 : 0) },
      stats: this.#bpf.stats(),
      events_seen: this.#eventsSeen,
      workloads: this.#registry.list().length,
      shadow_agents: this.shadowAgents().length,
      killed_cgroups: [...this.#killedCgroups].map(String),
      global_kill: this.#bpf.isKilled('global'),
    };
  }

  close(): void {
    this.#events?.stop();
    this.#resolver.close();
    this.#bpf.close();
  }

  #onEvent(e: BpfEvent): void {
    this.#eventsSeen++;
    const provider = this.#resolver.providerOf(e.destination.address, e.destination.port);
    const { workload, first } = this.#registry.observe(e, provider);
    if (first && workload.agent === null) this.#o.onShadow(workload);
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
    for (const w of this.#registry.cgroupsCovered(scope, target)) {
      if (stillStopped(this.#o.kills, w)) continue;
      this.#bpf.unkill(w.cgroupId);
      this.#killedCgroups.delete(w.cgroupId);
    }
  }

  /** One socket-destroy pass per network namespace the workloads' connections live in. */
  #teardown(workloads: SeenWorkload[]): void {
    const netns = new Map<bigint, number>();
    for (const w of workloads) for (const [cookie, pid] of w.netns) netns.set(cookie, pid);
    for (const pid of netns.values()) {
      this.#bpf.destroyKilledSockets(`/proc/${pid}/ns/net`).then(
        (r) => this.#o.logger.info({ pid, destroyed: r.destroyed }, 'killed workload connections torn down'),
        (err: Error) => this.#o.logger.warn({ pid, err: err.message }, 'could not tear down a killed workload’s connections'),
      );
    }
  }
}
