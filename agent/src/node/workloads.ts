import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Who a cgroup is: its path, and the pod and container when the path names them. */
export interface WorkloadIdentity {
  cgroupId: bigint;
  /** Path below the cgroup2 mount, starting with '/'; null when the cgroup is gone. */
  cgroupPath: string | null;
  podUid: string | null;
  containerId: string | null;
}

// kubelet's two cgroup drivers: systemd (kubepods-burstable-pod<uid with _>.slice/
// cri-containerd-<id>.scope) and cgroupfs (kubepods/burstable/pod<uid>/<id>).
const POD = /(?:^|\/)(?:kubepods(?:-[a-z]+)*-)?pod([0-9a-f]{8}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{4}[-_][0-9a-f]{12})(?:\.slice)?(?:\/|$)/;
const CONTAINER = /\/(?:(?:cri-containerd|crio|docker|containerd)-)?([0-9a-f]{64})(?:\.scope)?$/;
const MAX_MISSED = 4096;

/** The pod UID and container id a kubelet cgroup path carries, when it carries them. */
export function parseKubeCgroup(path: string): { podUid: string | null; containerId: string | null } {
  const pod = POD.exec(path);
  const container = CONTAINER.exec(path);
  return { podUid: pod ? pod[1]!.replaceAll('_', '-') : null, containerId: container ? container[1]! : null };
}

/**
 * Finds cgroups by id (a cgroup v2 id is its directory's inode number) under one subtree,
 * caching what it has seen. An id not seen before walks the subtree again at once (a pod's cgroup
 * is made moments before its first connect: a walk held back because another cgroup was just
 * looked up would miss it, and its workload would stay nameless); an id that was looked for and
 * missed walks again at most ten times a second (a cgroup that is gone is not searched for at
 * every event).
 */
export class CgroupIndex {
  readonly #byId = new Map<bigint, string>();
  /** Ids a walk has missed: looked for again only at the throttled pace. Bounded: cleared when it grows past MAX_MISSED. */
  readonly #missed = new Set<bigint>();
  #walkedAt = 0;

  constructor(
    readonly mount: string,
    readonly root: string,
  ) {}

  identify(cgroupId: bigint): WorkloadIdentity {
    let abs = this.#byId.get(cgroupId);
    if (abs === undefined && (!this.#missed.has(cgroupId) || Date.now() - this.#walkedAt > 100)) {
      this.#walk();
      abs = this.#byId.get(cgroupId);
      if (abs === undefined) {
        if (this.#missed.size >= MAX_MISSED) this.#missed.clear();
        this.#missed.add(cgroupId);
      }
    }
    const cgroupPath = abs === undefined ? null : `/${relative(this.mount, abs)}`;
    return { cgroupId, cgroupPath, ...(cgroupPath ? parseKubeCgroup(cgroupPath) : { podUid: null, containerId: null }) };
  }

  /** The pod-level cgroup directories of a pod (by UID): what opting a pod in or out marks. */
  findPod(uid: string): { id: bigint; path: string }[] {
    const scan = () => [...this.#byId.entries()].filter(([, abs]) => {
      const parsed = parseKubeCgroup(`/${relative(this.mount, abs)}`);
      return parsed.podUid === uid && parsed.containerId === null;
    });
    let found = scan();
    if (found.length === 0 && Date.now() - this.#walkedAt > 100) {
      this.#walk();
      found = scan();
    }
    return found.map(([id, path]) => ({ id, path }));
  }

  #walk(): void {
    this.#walkedAt = Date.now();
    const stack = [this.root];
    for (let seen = 0; stack.length > 0 && seen < 100_000; seen++) {
      const dir = stack.pop()!;
      try {
        this.#byId.set(statSync(dir, { bigint: true }).ino, dir);
        for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) stack.push(join(dir, e.name));
      } catch {
        // Gone while walking: a pod that ended.
      }
    }
  }
}
