import { CoreV1Api, ListWatch, Watch, type KubeConfig, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';
import type { PodRef } from '../../../proxy/src/index.js';
import type { WorkloadIdentity } from '../node/workloads.js';
import { podIdentity, toPodRef, type PodIdentity } from './pod-identity.js';

/** A workload's pod: by the container id its cgroup path names, else by the pod UID. */
export function podLookup(cache: PodCache): (w: WorkloadIdentity) => PodRef | null {
  return (w) => {
    const found = (w.containerId ? cache.byContainer(w.containerId) : undefined) ?? (w.podUid ? cache.byUid(w.podUid) : undefined);
    return found ? toPodRef(found) : null;
  };
}

export interface PodCacheOptions {
  kubeConfig: KubeConfig;
  /** This node's name (the downward API's spec.nodeName): only its pods are watched. */
  nodeName: string;
  logger: Logger;
  /** A watch that has said nothing for this long (not even a bookmark) is ended and opened again. */
  inactivityMs: number;
  /** The longest wait between attempts after the API server refused or vanished. */
  maxBackoffMs?: number;
  /** A pod's identity appeared, changed or went. */
  onChange?: (identity: PodIdentity, change: 'set' | 'delete') => void;
}

interface Informer<T> {
  lw: ListWatch<T & { metadata?: { name?: string; namespace?: string } }>;
  watch: Watch;
  backoffMs: number;
  restarts: number;
  lastError: string | null;
  timer: NodeJS.Timeout | null;
}

/**
 * This node's pods, as the API server has them: a list-then-watch of pods with
 * `spec.nodeName=<node>` and of namespaces (whose annotations give their pods' defaults),
 * indexed by pod UID and container id — what a cgroup path names. It survives what a watch
 * meets: 410 Gone (the client relists), a silent watch (ended after `inactivityMs` and opened
 * again from the last version), and an API server that restarts or refuses (tried again with
 * a backoff doubling to `maxBackoffMs`, from the last version it had).
 */
export class PodCache {
  readonly #o: PodCacheOptions;
  readonly #byUid = new Map<string, PodIdentity>();
  readonly #byContainer = new Map<string, PodIdentity>();
  readonly #pods: Informer<V1Pod>;
  readonly #namespaces: Informer<V1Namespace>;
  #stopped = false;
  #synced = false;

  constructor(o: PodCacheOptions) {
    this.#o = o;
    const api = o.kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${o.nodeName}`;
    this.#pods = this.#informer<V1Pod>('pods', '/api/v1/pods', () => api.listPodForAllNamespaces({ fieldSelector }), fieldSelector);
    this.#namespaces = this.#informer<V1Namespace>('namespaces', '/api/v1/namespaces', () => api.listNamespace(), undefined);
    this.#pods.lw.on('add', (p) => this.#index(p));
    this.#pods.lw.on('update', (p) => this.#index(p));
    this.#pods.lw.on('delete', (p) => this.#forget(p));
    const reindex = (ns: V1Namespace) => {
      for (const p of this.#pods.lw.list(ns.metadata?.name)) this.#index(p);
    };
    this.#namespaces.lw.on('add', reindex);
    this.#namespaces.lw.on('update', reindex);
    this.#namespaces.lw.on('delete', reindex);
  }

  #informer<T>(what: string, path: string, list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>, fieldSelector: string | undefined): Informer<T> {
    const watch = new Watch(this.#o.kubeConfig);
    // client-node ends a watch that has been silent this long; its ListWatch then resumes from the last version.
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = this.#o.inactivityMs;
    const lw = new ListWatch(path, watch, list as never, false, undefined, fieldSelector);
    const informer: Informer<T> = { lw: lw as never, watch, backoffMs: 0, restarts: 0, lastError: null, timer: null };
    lw.on('error', (err: unknown) => {
      // Anything but 410 and its own timeout stops client-node's ListWatch: start it again, from where it was.
      informer.lastError = (err as Error | undefined)?.message ?? String(err);
      informer.backoffMs = Math.min(informer.backoffMs > 0 ? informer.backoffMs * 2 : 250, this.#o.maxBackoffMs ?? 30_000);
      this.#o.logger.warn({ watch: what, err: informer.lastError, retry_ms: informer.backoffMs }, 'Kubernetes watch failed; trying again');
      if (this.#stopped) return;
      informer.timer = setTimeout(() => {
        informer.restarts++;
        void lw.start().catch(() => {});
      }, informer.backoffMs);
      informer.timer.unref();
    });
    const healthy = () => {
      informer.backoffMs = 0;
      informer.lastError = null;
    };
    lw.on('add', healthy);
    lw.on('update', healthy);
    lw.on('delete', healthy);
    return informer;
  }

  /** Starts both watches; resolves once each has listed (or after waitMs, carrying on without). */
  async start(waitMs = 5000): Promise<boolean> {
    const listed = () => this.#pods.lw.latestResourceVersion() !== '' && this.#namespaces.lw.latestResourceVersion() !== '';
    void this.#namespaces.lw.start().catch(() => {});
    void this.#pods.lw.start().catch(() => {});
    // A failed first attempt is retried by the error handler: wait for the listing, not for the attempt.
    for (const deadline = Date.now() + waitMs; !listed() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    this.#synced = listed();
    // Namespaces may have listed after the pods: their annotations apply to what is already indexed.
    for (const p of this.#pods.lw.list()) this.#index(p);
    return this.#synced;
  }

  byUid(uid: string): PodIdentity | undefined {
    return this.#byUid.get(uid);
  }

  byContainer(id: string): PodIdentity | undefined {
    return this.#byContainer.get(id);
  }

  pods(): PodIdentity[] {
    return [...this.#byUid.values()];
  }

  status() {
    const of = (i: Informer<unknown>) => ({ resource_version: i.lw.latestResourceVersion(), restarts: i.restarts, last_error: i.lastError });
    return { node: this.#o.nodeName, synced: this.#synced || this.#pods.lw.latestResourceVersion() !== '', pods: this.#byUid.size, watches: { pods: of(this.#pods as never), namespaces: of(this.#namespaces as never) } };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const i of [this.#pods, this.#namespaces] as Informer<unknown>[]) {
      if (i.timer) clearTimeout(i.timer);
      await i.lw.stop();
    }
  }

  #index(pod: V1Pod): void {
    const identity = podIdentity(pod, this.#namespaces.lw.get(pod.metadata?.namespace ?? ''));
    const old = this.#byUid.get(identity.uid);
    if (old) for (const id of old.containerIds) this.#byContainer.delete(id);
    this.#byUid.set(identity.uid, identity);
    for (const id of identity.containerIds) this.#byContainer.set(id, identity);
    this.#o.onChange?.(identity, 'set');
  }

  #forget(pod: V1Pod): void {
    const old = this.#byUid.get(pod.metadata?.uid ?? '');
    if (!old) return;
    this.#byUid.delete(old.uid);
    for (const id of old.containerIds) this.#byContainer.delete(id);
    this.#o.onChange?.(old, 'delete');
  }
}
