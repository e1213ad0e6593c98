import { CoreV1Api, type KubeConfig, type V1Namespace, type V1Pod, type V1ServiceAccount } from '@kubernetes/client-node';
import { Informer, waitListed } from './informer.js';
import type { Logger } from '../../../proxy/src/index.js';
import type { PodRef } from '../../../proxy/src/index.js';
import type { WorkloadIdentity } from '../node/workloads.js';
import { podIdentity, toPodRef, type PodIdentity } from './pod-identity.js';

/** The pod a connection to the explicit listener came from, by its source address. */
export function podByAddress(cache: PodCache): (address: string) => PodRef | null {
  return (address) => {
    const found = cache.byAddress(address);
    return found ? toPodRef(found) : null;
  };
}

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
  /** Pod addresses of pods not finished: an address a finished pod held may already be another's. */
  readonly #byAddress = new Map<string, PodIdentity>();
  /** When each indexed pod was created (epoch ms): which of two pods claiming an address is newer. */
  readonly #created = new Map<string, number>();
  readonly #pods: Informer<V1Pod>;
  readonly #namespaces: Informer<V1Namespace>;
  readonly #accounts: Informer<V1ServiceAccount>;
  #synced = false;

  constructor(o: PodCacheOptions) {
    this.#o = o;
    const api = o.kubeConfig.makeApiClient(CoreV1Api);
    const fieldSelector = `spec.nodeName=${o.nodeName}`;
    this.#pods = new Informer<V1Pod>(o, 'pods', '/api/v1/pods', () => api.listPodForAllNamespaces({ fieldSelector }), { fieldSelector });
    this.#namespaces = new Informer<V1Namespace>(o, 'namespaces', '/api/v1/namespaces', () => api.listNamespace());
    this.#accounts = new Informer<V1ServiceAccount>(o, 'serviceaccounts', '/api/v1/serviceaccounts', () => api.listServiceAccountForAllNamespaces());
    this.#pods.lw.on('add', (p) => this.#index(p));
    this.#pods.lw.on('update', (p) => this.#index(p));
    this.#pods.lw.on('delete', (p) => this.#forget(p));
    const reindex = (ns: V1Namespace) => {
      for (const p of this.#pods.lw.list(ns.metadata?.name)) this.#index(p);
    };
    this.#namespaces.lw.on('add', reindex);
    this.#namespaces.lw.on('update', reindex);
    this.#namespaces.lw.on('delete', reindex);
    const reindexAccount = (sa: V1ServiceAccount) => {
      for (const p of this.#pods.lw.list(sa.metadata?.namespace)) if ((p.spec?.serviceAccountName ?? 'default') === sa.metadata?.name) this.#index(p);
    };
    for (const e of ['add', 'update', 'delete'] as const) this.#accounts.lw.on(e, reindexAccount);
  }

  /** Starts both watches; resolves once each has listed (or after waitMs, carrying on without). */
  async start(waitMs = 5000): Promise<boolean> {
    this.#namespaces.start();
    this.#accounts.start();
    this.#pods.start();
    // A failed first attempt is retried: wait for the listing, not for the attempt.
    this.#synced = await waitListed([this.#pods, this.#namespaces, this.#accounts], waitMs);
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

  /** By a pod address (an IPv4-mapped IPv6 address is its IPv4 address). */
  byAddress(address: string): PodIdentity | undefined {
    return this.#byAddress.get(address.startsWith('::ffff:') ? address.slice(7) : address);
  }

  pods(): PodIdentity[] {
    return [...this.#byUid.values()];
  }

  status() {
    return { node: this.#o.nodeName, synced: this.#synced || this.#pods.listed, pods: this.#byUid.size, watches: { pods: this.#pods.status(), namespaces: this.#namespaces.status(), serviceaccounts: this.#accounts.status() } };
  }

  async stop(): Promise<void> {
    await this.#pods.stop();
    await this.#namespaces.stop();
    await this.#accounts.stop();
  }

  #index(pod: V1Pod): void {
    const namespace = pod.metadata?.namespace ?? '';
    const identity = podIdentity(pod, this.#namespaces.lw.get(namespace), this.#accounts.lw.get(pod.spec?.serviceAccountName ?? 'default', namespace));
    const old = this.#byUid.get(identity.uid);
    if (old) this.#unindex(old);
    this.#byUid.set(identity.uid, identity);
    for (const id of identity.containerIds) this.#byContainer.set(id, identity);
    // A pod finished or on its way out no longer owns its address: a new pod may hold it already.
    const leaving = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed' || !!pod.metadata?.deletionTimestamp;
    if (!leaving) {
      const created = Date.parse(String(pod.metadata?.creationTimestamp ?? '')) || 0;
      this.#created.set(identity.uid, created);
      for (const a of identity.addresses) {
        const holder = this.#byAddress.get(a);
        // Two live pods claiming one address (a relist in any order): the newer is its holder.
        if (holder && holder.uid !== identity.uid && (this.#created.get(holder.uid) ?? 0) > created) continue;
        this.#byAddress.set(a, identity);
      }
    }
    this.#o.onChange?.(identity, 'set');
  }

  #forget(pod: V1Pod): void {
    const old = this.#byUid.get(pod.metadata?.uid ?? '');
    if (!old) return;
    this.#byUid.delete(old.uid);
    this.#created.delete(old.uid);
    this.#unindex(old);
    this.#o.onChange?.(old, 'delete');
  }

  #unindex(old: PodIdentity): void {
    for (const id of old.containerIds) this.#byContainer.delete(id);
    // Only where the address is still this pod's: a new pod may hold it already.
    for (const a of old.addresses) if (this.#byAddress.get(a)?.uid === old.uid) this.#byAddress.delete(a);
  }
}
