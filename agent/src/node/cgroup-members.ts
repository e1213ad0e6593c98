import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The processes in a cgroup and every cgroup below it (cgroup.procs of each). */
export function cgroupPids(dir: string, limit = 10_000): number[] {
  const pids: number[] = [];
  const stack = [dir];
  while (stack.length > 0 && pids.length < limit) {
    const d = stack.pop()!;
    try {
      for (const line of readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n')) if (line) pids.push(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) stack.push(join(d, e.name));
    } catch {
      // Removed while we read: its processes are gone too.
    }
  }
  return pids;
}

/**
 * One live process per network namespace the cgroup's members are in, as /proc/<pid>/ns/net
 * paths keyed by the namespace's inode. Read when it is needed (a kill), never remembered: the
 * process that made the last connection may have exited while the others hold connections.
 */
export function cgroupNetns(dir: string): Map<bigint, string> {
  const out = new Map<bigint, string>();
  for (const pid of cgroupPids(dir)) {
    const path = `/proc/${pid}/ns/net`;
    try {
      const ino = statSync(path, { bigint: true }).ino;
      if (!out.has(ino)) out.set(ino, path);
    } catch {
      // Exited meanwhile.
    }
  }
  return out;
}

const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;

export interface NetCapabilities {
  netRaw: boolean;
  netAdmin: boolean;
  /** The pids holding either, a few of them. */
  pids: number[];
}

/**
 * Whether processes of a cgroup hold CAP_NET_RAW (raw and packet sockets: what only the packet
 * backstop sees) or CAP_NET_ADMIN (they can change their namespace's routes and filters, and
 * with it what the backstop is shown), from each process's effective set.
 */
export function netCapabilities(dir: string): NetCapabilities {
  const found: NetCapabilities = { netRaw: false, netAdmin: false, pids: [] };
  for (const pid of cgroupPids(dir, 1000)) {
    let eff: bigint;
    try {
      const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('CapEff:'));
      if (!line) continue;
      eff = BigInt(`0x${line.slice(7).trim()}`);
    } catch {
      continue;
    }
    const raw = ((eff >> CAP_NET_RAW) & 1n) === 1n;
    const admin = ((eff >> CAP_NET_ADMIN) & 1n) === 1n;
    if (!raw && !admin) continue;
    found.netRaw ||= raw;
    found.netAdmin ||= admin;
    if (found.pids.length < 5) found.pids.push(pid);
  }
  return found;
}
