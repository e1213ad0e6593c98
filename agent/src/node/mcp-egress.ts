// Egress confinement of the MCP servers `altrace mcp wrap` launches (mcp.servers.<name>.egress):
// for each relay of a server that declares egress, the agent makes a cgroup below the governed
// one, puts it in the server's egress set (alt_confined → alt_egress_nets) and tells the wrap to
// start the server in it. The connect and sendmsg programs then refuse, with EPERM in the
// server, anything outside the set, for the server and every process it starts. When the relay
// closes the cgroup's processes are killed (cgroup.kill) and the cgroup goes.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EgressEntry, Logger } from '../../../proxy/src/index.js';
import { formatNet } from '../bpf/address.js';
import { cgroupId, type BpfEnforcer, type BpfEvent } from '../bpf/index.js';
import { checkNet } from '../bpf/validate.js';
import { DestinationResolver, type DnsResolver } from './destinations.js';

/** The directory below the governed cgroup where the servers' cgroups are made. */
export const MCP_CGROUP_DIR = 'altrace-mcp';
const QUIET_MS = 60_000;
/** How long a released cgroup's processes get to die before the agent gives up removing it (and keeps it confined). */
const RELEASE_WAIT_MS = 5_000;

/** A connect or datagram of a confined server that the kernel refused. */
export interface EgressRefusal {
  server: string;
  relayId: string;
  cgroup: string;
  pid: number;
  comm: string;
  destination: string;
  protocol: string;
  /** Refusals folded into this report since the last one for the same relay and destination. */
  count: number;
}

export interface McpEgressOptions {
  bpf: Pick<BpfEnforcer, 'confine' | 'confinedCgroups' | 'allowEgress' | 'disallowEgress' | 'egressNets'>;
  /** The governed cgroup directory: the programs attached there see the servers' cgroups below it. */
  governed: string;
  logger: Logger;
  dns: DnsResolver;
  minTtlS: number;
  maxTtlS: number;
  /** The nameservers a server that names hosts may ask (default: /etc/resolv.conf's). */
  nameservers?: readonly string[];
  onRefused?(r: EgressRefusal): void;
  /** Every refusal, for the metric. */
  onAttempt?(server: string): void;
  now?: () => number;
}

/** The nameservers of /etc/resolv.conf (none when it cannot be read). */
export function systemNameservers(file = '/etc/resolv.conf'): string[] {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\S+)/.exec(l)?.[1])
      .filter((a): a is string => a !== undefined && !a.includes('%'));
  } catch {
    return [];
  }
}

/** One group of nets with the same ports, and who holds each net in it. */
type Ports = readonly number[];

/**
 * The kernel entries of one server's egress set: each net is held by one or more groups (an
 * entry's ports; 'dns' for the nameservers); the kernel's entry for a net admits the union of
 * its groups' ports, or any port when one group names none.
 */
class EgressSet {
  readonly relays = new Set<string>();
  #held = new Map<string, Map<string, Ports>>();
  #resolvers: DestinationResolver[] = [];
  #entriesKey = '';

  constructor(
    readonly id: number,
    readonly server: string,
    private readonly o: McpEgressOptions,
  ) {}

  /** Brings the set to these entries; resolves when every host name has been asked once. */
  async apply(entries: readonly EgressEntry[]): Promise<void> {
    const key = JSON.stringify(entries);
    if (key === this.#entriesKey) return;
    this.#entriesKey = key;
    for (const r of this.#resolvers) r.close();
    this.#resolvers = [];
    const before = new Set(this.#held.keys());
    this.#held = new Map();
    const hosts = new Map<string, string[]>();
    for (const e of entries) {
      const group = e.ports.join(',');
      if (e.kind === 'net') this.#hold(formatNet(checkNet('egress', e.net)), group, e.ports, false);
      else hosts.set(group, [...(hosts.get(group) ?? []), e.host]);
    }
    if (hosts.size > 0) for (const ns of this.o.nameservers ?? systemNameservers()) this.#hold(formatNet(checkNet('nameserver', ns)), 'dns', [53], false);
    for (const net of new Set([...before, ...this.#held.keys()])) this.#write(net);
    const started: Promise<void>[] = [];
    for (const [group, names] of hosts) {
      const ports = group === '' ? [] : group.split(',').map(Number);
      const resolver = new DestinationResolver(
        names.map((host) => ({ provider: this.server, host })),
        { add: (net) => this.#hold(net, `host:${group}`, ports, true), remove: (net) => this.#unhold(net, `host:${group}`) },
        {
          dns: this.o.dns,
          minTtlS: this.o.minTtlS,
          maxTtlS: this.o.maxTtlS,
          onError: (host, err) => this.o.logger.warn({ server: this.server, host, err: err.message }, 'an MCP server’s egress host did not resolve; its last addresses stay in its set'),
        },
      );
      this.#resolvers.push(resolver);
      started.push(resolver.start());
    }
    await Promise.all(started);
  }

  nets(): string[] {
    return [...this.#held.keys()].sort();
  }

  close(): void {
    for (const r of this.#resolvers) r.close();
    this.#resolvers = [];
    const nets = [...this.#held.keys()];
    this.#held.clear();
    for (const net of nets) this.#write(net);
  }

  #hold(net: string, group: string, ports: Ports, write: boolean): void {
    const groups = this.#held.get(net) ?? new Map<string, Ports>();
    groups.set(group, ports);
    this.#held.set(net, groups);
    if (write) this.#write(net);
  }

  #unhold(net: string, group: string): boolean {
    const groups = this.#held.get(net);
    if (!groups?.delete(group)) return false;
    if (groups.size === 0) this.#held.delete(net);
    this.#write(net);
    return true;
  }

  #write(net: string): void {
    const groups = this.#held.get(net);
    if (!groups) return void this.o.bpf.disallowEgress(this.id, net);
    const all = [...groups.values()];
    this.o.bpf.allowEgress(this.id, net, all.some((p) => p.length === 0) ? [] : [...new Set(all.flat())].sort((a, b) => a - b).slice(0, 8));
  }
}

interface Confined {
  server: string;
  dir: string;
  cgroupId: bigint;
}

/** The confinement of wrapped MCP servers on this node. */
export class McpEgress {
  readonly #o: McpEgressOptions;
  readonly #root: string;
  readonly #sets = new Map<string, EgressSet>();
  readonly #relays = new Map<string, Confined>();
  readonly #byCgroup = new Map<bigint, string>();
  readonly #lastReport = new Map<string, { at: number; folded: number }>();
  #nextSet = 1;

  constructor(o: McpEgressOptions) {
    this.#o = o;
    this.#root = join(o.governed, MCP_CGROUP_DIR);
  }

  /**
   * What an earlier agent left: its servers' cgroups (their relays died with it, so their
   * processes are killed now) and its kernel entries.
   */
  async start(): Promise<void> {
    if (existsSync(this.#root)) {
      for (const name of readdirSync(this.#root, { withFileTypes: true })) {
        if (name.isDirectory()) await this.#remove(join(this.#root, name.name)).catch((err: Error) => this.#o.logger.error({ cgroup: join(this.#root, name.name), err: err.message }, 'an MCP server cgroup an earlier agent left could not be removed'));
      }
    }
    for (const { cgroupId: id } of this.#o.bpf.confinedCgroups()) this.#o.bpf.confine(id, null);
    for (const { set, net } of this.#o.bpf.egressNets()) this.#o.bpf.disallowEgress(set, net);
  }

  /** Makes the cgroup a relay's server starts in, confined to the server's egress; resolves to its path. */
  async confine(server: string, relayId: string, entries: readonly EgressEntry[]): Promise<string> {
    let set = this.#sets.get(server);
    if (!set) {
      set = new EgressSet(this.#nextSet++, server, this.#o);
      this.#sets.set(server, set);
    }
    set.relays.add(relayId);
    try {
      await set.apply(entries);
      mkdirSync(this.#root, { recursive: true });
      const dir = join(this.#root, `${server.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}-${relayId.slice(0, 16)}`);
      mkdirSync(dir);
      const id = cgroupId(dir);
      this.#o.bpf.confine(id, set.id);
      this.#relays.set(relayId, { server, dir, cgroupId: id });
      this.#byCgroup.set(id, relayId);
      return dir;
    } catch (err) {
      this.#dropRelay(server, relayId);
      throw err;
    }
  }

  /** The relay closed: its server's processes are killed, its cgroup removed, then unconfined. */
  async release(relayId: string): Promise<void> {
    const c = this.#relays.get(relayId);
    if (!c) return;
    this.#relays.delete(relayId);
    try {
      await this.#remove(c.dir);
      this.#o.bpf.confine(c.cgroupId, null);
      this.#byCgroup.delete(c.cgroupId);
    } catch (err) {
      // Its processes would run unconfined: it stays confined, and the next start clears it.
      this.#o.logger.error({ server: c.server, cgroup: c.dir, err: (err as Error).message }, 'an MCP server cgroup could not be removed; it stays confined');
    }
    this.#dropRelay(c.server, relayId);
  }

  /** The policy changed a server's egress: its live set follows (null: no longer declared, so its cgroups are unconfined). */
  async update(server: string, entries: readonly EgressEntry[] | null): Promise<void> {
    const set = this.#sets.get(server);
    if (!set) return;
    if (entries === null) {
      for (const c of this.#relays.values()) if (c.server === server) this.#o.bpf.confine(c.cgroupId, null);
      set.close();
      this.#sets.delete(server);
      return;
    }
    await set.apply(entries);
  }

  /** The servers a live set follows (for the policy listener). */
  servers(): string[] {
    return [...this.#sets.keys()];
  }

  /** An egress_refused event: reported once a minute per relay and destination, the rest folded into the count. */
  onEvent(e: BpfEvent): void {
    if (e.kind !== 'egress_refused') return;
    const relayId = this.#byCgroup.get(e.cgroupId);
    const c = relayId ? this.#relays.get(relayId) : undefined;
    this.#o.onAttempt?.(c?.server ?? 'unknown');
    const destination = `${e.destination.address}:${e.destination.port}`;
    const key = `${relayId ?? e.cgroupId}|${destination}`;
    const now = (this.#o.now ?? Date.now)();
    const last = this.#lastReport.get(key);
    if (last && now - last.at < QUIET_MS) return void last.folded++;
    this.#lastReport.set(key, { at: now, folded: 0 });
    if (this.#lastReport.size > 4096) this.#lastReport.delete(this.#lastReport.keys().next().value!);
    this.#o.onRefused?.({ server: c?.server ?? 'unknown', relayId: relayId ?? '', cgroup: c?.dir ?? `cgroup id ${e.cgroupId}`, pid: e.pid, comm: e.comm, destination, protocol: e.protocol, count: (last?.folded ?? 0) + 1 });
  }

  status(): { servers: { server: string; set: number; relays: number; nets: string[] }[] } {
    return { servers: [...this.#sets.values()].map((s) => ({ server: s.server, set: s.id, relays: s.relays.size, nets: s.nets() })) };
  }

  /**
   * The agent stops: every confined server is killed now (none may outlive the confinement's
   * keeper); its cgroup and kernel entries are cleared by the next start.
   */
  stop(): void {
    for (const c of this.#relays.values()) {
      try {
        writeFileSync(join(c.dir, 'cgroup.kill'), '1');
      } catch (err) {
        this.#o.logger.error({ server: c.server, cgroup: c.dir, err: (err as Error).message }, 'an MCP server cgroup could not be killed at stop');
      }
    }
    for (const set of this.#sets.values()) set.close();
    this.#sets.clear();
  }

  #dropRelay(server: string, relayId: string): void {
    const set = this.#sets.get(server);
    if (!set) return;
    set.relays.delete(relayId);
    if (set.relays.size > 0) return;
    set.close();
    this.#sets.delete(server);
  }

  /** Kills a cgroup's processes (and its children's), waits for them to go, removes it. */
  async #remove(dir: string): Promise<void> {
    for (const child of readdirSync(dir, { withFileTypes: true })) if (child.isDirectory()) await this.#remove(join(dir, child.name));
    const kill = join(dir, 'cgroup.kill');
    if (existsSync(kill)) writeFileSync(kill, '1');
    const deadline = Date.now() + RELEASE_WAIT_MS;
    for (;;) {
      if (readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() === '') {
        try {
          rmdirSync(dir);
          return;
        } catch (err) {
          // EBUSY while the last task is still leaving the cgroup.
          if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || Date.now() > deadline) throw err;
        }
      } else if (Date.now() > deadline) {
        throw new Error(`processes of ${dir} did not end within ${RELEASE_WAIT_MS} ms`);
      }
      await sleep(20);
    }
  }
}
