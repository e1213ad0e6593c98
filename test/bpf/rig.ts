// What the BPF tests share: the reason to skip, temporary cgroups, the child process the
// programs judge, local servers, and a cleanup stack that runs even when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { available, cgroup2Mount, cgroupId } from '../../agent/src/bpf/index.js';

const CHILD = new URL('./child.js', import.meta.url).pathname;

function skipReason(): string | null {
  const why = available();
  if (!why.ok) return why.reason;
  if (!existsSync(CHILD)) return `${CHILD} is not built (npx tsc -b)`;
  return null;
}

export const SKIP_REASON = skipReason();

/** Undo steps, newest first; every one runs even if an earlier one throws. */
export class Cleanup {
  readonly #steps: (() => unknown)[] = [];
  add(step: () => unknown): void {
    this.#steps.push(step);
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    while (this.#steps.length > 0) {
      try {
        await this.#steps.pop()!();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  }
}

/** A cgroup under the cgroup2 mount with a child cgroup, `leaf`, for processes: programs
 *  attached to `path` govern `leaf` too, so kill and exempt of either are both exercised. */
export class TempCgroup {
  private constructor(readonly root: string, readonly path: string, readonly leaf: string) {}

  static create(cleanup: Cleanup): TempCgroup {
    const root = cgroup2Mount()!;
    const path = join(root, `altrace-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`);
    mkdirSync(path);
    const cg = new TempCgroup(root, path, join(path, 'leaf'));
    cleanup.add(() => cg.remove());
    mkdirSync(cg.leaf);
    return cg;
  }

  get id(): bigint {
    return cgroupId(this.path);
  }
  get leafId(): bigint {
    return cgroupId(this.leaf);
  }

  enter(pid: number): void {
    writeFileSync(join(this.leaf, 'cgroup.procs'), String(pid));
  }

  /** Moves anything still inside back to the root, then removes both directories. */
  async remove(): Promise<void> {
    for (const dir of [this.leaf, this.path]) await removeCgroupDir(dir, this.root);
  }
}

/** Moves a cgroup's processes to `root`'s, then removes the directory (waiting out a process
 *  that just exited and holds it populated for a moment). Absent already: nothing to do. */
export async function removeCgroupDir(dir: string, root: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
    try {
      writeFileSync(join(root, 'cgroup.procs'), pid);
    } catch {
      // Exited meanwhile.
    }
  }
  for (let attempt = 0; ; attempt++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || attempt >= 50) throw err;
      await sleep(20);
    }
  }
}

export interface Reply {
  id: number;
  ok: boolean;
  code?: string | null;
  local?: { address: string; port: number };
  remote?: { address: string; port: number };
  alive?: boolean;
  content?: string | null;
  message?: string;
  closedAtNs?: string;
  refusedAtNs?: string;
  lastAcceptedNs?: string | null;
  attempts?: number;
  nsPerConnect?: string;
  refused?: number;
  elapsedNs?: string;
  addresses?: string[];
}

/** The test/bpf/child.js process, spoken to one JSON line at a time. */
export class Child {
  readonly #waiting = new Map<number, (r: Reply) => void>();
  #next = 1;

  private constructor(readonly proc: ChildProcess) {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      const r = JSON.parse(line) as Reply;
      this.#waiting.get(r.id)?.(r);
      this.#waiting.delete(r.id);
    });
  }

  get pid(): number {
    return this.proc.pid!;
  }

  /** The child process; with `inside`, it first joins that cgroup (its cgroup.procs file) and
   *  network namespace, before any code of its own runs. */
  static async spawn(cleanup: Cleanup, inside?: { cgroupProcs: string; netns: string; env?: Record<string, string> }): Promise<Child> {
    const proc = inside
      ? spawn('sh', ['-c', 'echo $$ > "$1" && exec ip netns exec "$2" "$3" "$4"', 'sh', inside.cgroupProcs, inside.netns, process.execPath, CHILD], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, ...inside.env } })
      : spawn(process.execPath, [CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
    const child = new Child(proc);
    cleanup.add(() => child.stop());
    const ready = new Promise<Reply>((resolve) => child.#waiting.set(0, resolve));
    await Promise.race([ready, once(proc, 'exit').then(() => Promise.reject(new Error('child exited before it was ready')))]);
    return child;
  }

  call(cmd: Record<string, unknown>, timeoutMs = 10_000): Promise<Reply> {
    const id = this.#next++;
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child did not answer ${JSON.stringify(cmd)}`)), timeoutMs);
      this.#waiting.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.proc.stdin!.write(`${JSON.stringify({ ...cmd, id })}\n`);
    });
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGKILL');
    await exited;
  }
}

export interface LocalServer {
  port: number;
  accepted: Socket[];
  /** The next connection, or the one already accepted from this peer port. */
  connectionFrom(peerPort: number, timeoutMs?: number): Promise<Socket>;
}

export async function listen(host: string, cleanup: Cleanup): Promise<LocalServer> {
  const accepted: Socket[] = [];
  const peerPorts = new Map<Socket, number | undefined>();
  const server: Server = createServer((s) => {
    s.on('error', () => {});
    // Read now: once the peer has gone, getpeername fails and remotePort is undefined.
    peerPorts.set(s, s.remotePort);
    accepted.push(s);
  });
  server.listen(0, host);
  await once(server, 'listening');
  cleanup.add(async () => {
    for (const s of accepted) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    port: (server.address() as { port: number }).port,
    accepted,
    async connectionFrom(peerPort, timeoutMs = 5000) {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(10)) {
        const found = accepted.find((s) => peerPorts.get(s) === peerPort);
        if (found) return found;
      }
      throw new Error(`no connection from port ${peerPort}`);
    },
  };
}

/** Polls `probe` until it returns something other than undefined. */
export async function eventually<T>(probe: () => T | undefined, timeoutMs = 5000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await sleep(10)) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
  }
}
