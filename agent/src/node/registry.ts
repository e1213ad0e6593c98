import type { BpfEvent } from '../bpf/index.js';
import type { KillScope, KillSwitches, PodRef } from '../../../proxy/src/index.js';
import type { CgroupIndex, WorkloadIdentity } from './workloads.js';

/** A workload seen talking to an AI destination, registered (a virtual key named it) or not. */
export interface SeenWorkload extends WorkloadIdentity {
  /** The shadow-agent id: stable per pod (or per cgroup outside Kubernetes), usable as a kill target. */
  id: string;
  /** The workload's address, where that is how it is known (the nftables fallback). */
  address?: string;
  pid: number;
  comm: string;
  providers: Set<string>;
  firstSeen: number;
  lastSeen: number;
  connections: number;
  refused: number;
  /** Learned from the first governed request that came from this cgroup with a virtual key. */
  agent: string | null;
  team: string | null;
  /** Network namespaces its sockets live in (cookie → a pid inside, to enter it by /proc). */
  netns: Map<bigint, number>;
  /** Its addresses, as the transparent listener saw them on redirected connections: how a
   *  packet the backstop dropped on a host-side interface is traced back to it. */
  addresses: Set<string>;
  /** Packets the backstops dropped and connects strict mode refused. */
  bypassAttempts: number;
  /** CAP_NET_RAW / CAP_NET_ADMIN held by its processes when last checked. */
  capabilities: { netRaw: boolean; netAdmin: boolean } | null;
  /** Its pod, when the node agent watches the cluster and the pod is this node's. */
  pod: PodRef | null;
}

/** A workload's pod, from its cgroup's container id or pod UID (null outside Kubernetes). */
export type PodLookup = (identity: WorkloadIdentity) => PodRef | null;

const MAX_WORKLOADS = 10_000;

/** Whether an agent or team kill switch covers a workload: by the agent it is bound to, or by its shadow id. */
export function covered(w: SeenWorkload, scope: Exclude<KillScope, 'global'>, target: string): boolean {
  return scope === 'team' ? w.team === target : w.agent === target || w.id === target;
}

/** Whether any switch still stops a workload once one was released. */
export function stillStopped(kills: KillSwitches, w: SeenWorkload): boolean {
  if (kills.get('agent', w.id)) return true;
  return w.agent !== null && kills.stopping({ agent: w.agent, team: w.team! }) !== null;
}

/**
 * Workloads by cgroup, from the kernel's connect events: the first AI-bound connect of a
 * cgroup no virtual key has named is a shadow agent, recorded at that moment. Requests that
 * arrive through the transparent listener with a virtual key bind the cgroup to the agent,
 * which is what lets an agent or team kill switch reach its cgroups in the kernel.
 */
export class WorkloadRegistry {
  readonly #byCgroup = new Map<bigint, SeenWorkload>();

  constructor(
    private readonly index: CgroupIndex,
    private readonly now: () => number = Date.now,
    private readonly podOf: PodLookup = () => null,
  ) {}

  /** Records an event; returns the workload and whether this is the first time it is seen. */
  observe(e: BpfEvent, provider: string | null): { workload: SeenWorkload; first: boolean } {
    let w = this.#byCgroup.get(e.cgroupId);
    const first = w === undefined;
    if (!w) {
      if (this.#byCgroup.size >= MAX_WORKLOADS) this.#evictOldest();
      w = this.#create(e.cgroupId, e.pid, e.comm);
    }
    // Not found at its first event (made after the last walk, or before the pod informer heard of it): looked for again now.
    if (w.cgroupPath === null) Object.assign(w, this.index.identify(e.cgroupId));
    if (w.pod === null) this.#setPod(w, this.podOf(w));
    w.lastSeen = this.now();
    w.pid = e.pid;
    w.comm = e.comm;
    w.netns.set(e.netnsCookie, e.pid);
    if (provider) w.providers.add(provider);
    if (e.kind === 'redirect') w.connections++;
    else w.refused++;
    return { workload: w, first };
  }

  #create(cgroupId: bigint, pid: number, comm: string): SeenWorkload {
    if (this.#byCgroup.size >= MAX_WORKLOADS) this.#evictOldest();
    const identity = this.index.identify(cgroupId);
    const w: SeenWorkload = {
      ...identity,
      id: `shadow-${identity.podUid ?? `cgroup-${cgroupId}`}`,
      pid,
      comm,
      providers: new Set(),
      firstSeen: this.now(),
      lastSeen: 0,
      connections: 0,
      refused: 0,
      agent: null,
      team: null,
      netns: new Map(),
      addresses: new Set(),
      bypassAttempts: 0,
      capabilities: null,
      pod: null,
    };
    this.#setPod(w, this.podOf(w));
    this.#byCgroup.set(cgroupId, w);
    return w;
  }

  /** A pod names its workload, and a pod that declares its agent binds it (a virtual key cannot rebind it). */
  #setPod(w: SeenWorkload, pod: PodRef | null): void {
    if (!pod) return;
    w.pod = pod;
    w.id = `shadow-${pod.namespace}.${pod.name}`;
    if (pod.agent) {
      w.agent = pod.agent;
      w.team = pod.team;
    }
  }

  /** A pod changed (annotations, its namespace's defaults): its workloads follow. Returns those whose agent changed. */
  podChanged(podUid: string, pod: PodRef | null): SeenWorkload[] {
    const changed: SeenWorkload[] = [];
    for (const w of this.#byCgroup.values()) {
      if (w.podUid !== podUid) continue;
      const before = `${w.agent}|${w.team}`;
      if (pod) this.#setPod(w, pod);
      else w.pod = null;
      if (`${w.agent}|${w.team}` !== before) changed.push(w);
    }
    return changed;
  }

  /** The workload of a cgroup the kernel named (a dropped packet's socket), known from now on. */
  ensure(cgroupId: bigint): SeenWorkload {
    const w = this.#byCgroup.get(cgroupId) ?? this.#create(cgroupId, 0, '');
    w.lastSeen = this.now();
    return w;
  }

  /** A workload an earlier agent killed (from the kill ledger), known again after a restart. */
  restore(cgroupId: bigint, binding: { id: string; agent: string | null; team: string | null }): SeenWorkload {
    const w = this.#byCgroup.get(cgroupId) ?? this.#create(cgroupId, 0, '');
    // Seen now: the oldest go first when the registry is full, and this one must stay to be lifted.
    w.lastSeen = this.now();
    w.id = binding.id;
    w.agent = binding.agent;
    w.team = binding.team;
    return w;
  }

  /** The transparent listener saw this cgroup's connection come from this address. */
  learnAddress(cgroupId: bigint, address: string): void {
    const w = this.#byCgroup.get(cgroupId);
    if (!w || w.addresses.has(address)) return;
    if (w.addresses.size >= 16) w.addresses.clear();
    w.addresses.add(address);
  }

  /** The workload a packet's source address belongs to, when a redirected connection showed it. */
  byAddress(address: string): SeenWorkload | undefined {
    for (const w of this.#byCgroup.values()) if (w.addresses.has(address)) return w;
    return undefined;
  }

  /** Binds a cgroup to the agent a virtual key named; true when that is new. A pod that declares its agent stays bound to it. */
  bind(cgroupId: bigint, agent: string, team: string): boolean {
    const w = this.#byCgroup.get(cgroupId);
    if (!w || w.pod?.agent || (w.agent === agent && w.team === team)) return false;
    w.agent = agent;
    w.team = team;
    return true;
  }

  get(cgroupId: bigint): SeenWorkload | undefined {
    return this.#byCgroup.get(cgroupId);
  }

  /** The cgroups a kill switch covers: by bound agent or team, or by shadow id. */
  cgroupsCovered(scope: Exclude<KillScope, 'global'>, target: string): SeenWorkload[] {
    const out: SeenWorkload[] = [];
    for (const w of this.#byCgroup.values()) if (covered(w, scope, target)) out.push(w);
    return out;
  }

  list(): SeenWorkload[] {
    return [...this.#byCgroup.values()];
  }

  #evictOldest(): void {
    let oldest: SeenWorkload | null = null;
    for (const w of this.#byCgroup.values()) if (!oldest || w.lastSeen < oldest.lastSeen) oldest = w;
    if (oldest) this.#byCgroup.delete(oldest.cgroupId);
  }
}

/** A workload as `bpf status` shows it (both enforcement modes). */
export function describeWorkload(w: SeenWorkload, killed: boolean) {
  return {
    id: w.id,
    cgroup_id: String(w.cgroupId),
    cgroup: w.cgroupPath,
    pod_uid: w.podUid,
    container_id: w.containerId,
    agent: w.agent,
    team: w.team,
    pid: w.pid,
    comm: w.comm,
    providers: [...w.providers],
    connections: w.connections,
    refused: w.refused,
    bypass_attempts: w.bypassAttempts,
    address: w.address ?? null,
    addresses: [...w.addresses],
    killed,
    capabilities: w.capabilities ? { net_raw: w.capabilities.netRaw, net_admin: w.capabilities.netAdmin } : null,
    pod: w.pod ? { namespace: w.pod.namespace, name: w.pod.name, owner: w.pod.owner, service_account: w.pod.serviceAccount, node: w.pod.node, declared_agent: w.pod.agent } : null,
    first_seen: new Date(w.firstSeen).toISOString(),
    last_seen: w.lastSeen ? new Date(w.lastSeen).toISOString() : null,
  };
}
