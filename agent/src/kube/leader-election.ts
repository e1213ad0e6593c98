// One control-plane replica at a time runs the controllers (docs/kubernetes.md, "Replicas and
// leadership"): the holder of a coordination.k8s.io Lease, with client-go's rules. A Lease is
// taken over only after its holder has not renewed it for a whole lease duration as timed by
// this replica's own clock since it saw the record change (clocks of replicas need not agree),
// a leader that cannot renew within the renew deadline stops leading before anyone may take over,
// and a replica that stops releases the Lease so that another leads at once.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';
import { apiErrorText } from './kube-config.js';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** namespace/name of the Lease. */
  lease: string;
  /** This replica, as the Lease's holderIdentity. */
  identity: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  /** Called when this replica starts and stops leading. */
  onChange: (leading: boolean) => void;
  now?: () => number;
}

export class LeaderElection {
  readonly #o: LeaderElectionOptions;
  readonly #api: CoordinationV1Api;
  readonly #namespace: string;
  readonly #name: string;
  #leading = false;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #running: Promise<void> | null = null;
  /** The record last seen (holder and renew time) and when, by this replica's clock. */
  #observed: { holder: string; renew: string; at: number } | null = null;
  /** When this replica last renewed successfully. */
  #renewedAt = 0;
  readonly counts = { transitions: 0, failures: 0 };

  constructor(o: LeaderElectionOptions) {
    this.#o = o;
    this.#api = o.kubeConfig.makeApiClient(CoordinationV1Api);
    [this.#namespace, this.#name] = o.lease.split('/') as [string, string];
  }

  get leading(): boolean {
    return this.#leading;
  }

  /** The holder the last read showed (null before any). */
  get holder(): string | null {
    return this.#observed?.holder || null;
  }

  /** Asks for the Lease once (resolving when that answer is in), then keeps asking or renewing. */
  async start(): Promise<void> {
    this.#running = this.#round().finally(() => (this.#running = null));
    await this.#running;
    this.#tick(this.#o.retryPeriodMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    if (!this.#leading) return;
    this.#set(false);
    // Released: the next replica need not wait out the lease. A shutdown never waits on it longer than the renew deadline.
    const release = async () => {
      const lease = await this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name });
      if (lease.spec?.holderIdentity !== this.#o.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: new V1MicroTime(this.#now()) };
      await this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: lease });
      this.#o.logger.info({ lease: this.#o.lease }, 'leadership released');
    };
    try {
      await withDeadline(release(), this.#o.renewDeadlineMs);
    } catch (err) {
      this.#o.logger.warn({ lease: this.#o.lease, err: apiErrorText(err) }, 'leadership not released; another replica leads once the lease runs out');
    }
  }

  #now(): number {
    return this.#o.now?.() ?? Date.now();
  }

  #tick(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#round().finally(() => {
        this.#running = null;
        // A little jitter keeps replicas that started together from asking in lockstep.
        this.#tick(this.#o.retryPeriodMs * (this.#leading ? 1 : 1 + Math.random() * 0.2));
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #round(): Promise<void> {
    let held: boolean;
    // An API server that swallows requests must not keep a leader leading: the round gives up at the deadline.
    const left = this.#leading ? this.#o.renewDeadlineMs - (this.#now() - this.#renewedAt) : this.#o.renewDeadlineMs;
    try {
      held = await withDeadline(this.#tryAcquireOrRenew(), left);
    } catch (err) {
      this.counts.failures++;
      this.#o.logger.warn({ lease: this.#o.lease, err: apiErrorText(err) }, 'lease not read or written');
      held = false;
      // A leader keeps leading through failed renewals until the renew deadline: shorter than the lease, so no other replica can have taken over yet.
      if (this.#leading && this.#now() - this.#renewedAt < this.#o.renewDeadlineMs) return;
    }
    if (held) this.#renewedAt = this.#now();
    if (held !== this.#leading) this.#set(held);
  }

  #set(leading: boolean): void {
    this.#leading = leading;
    this.counts.transitions++;
    this.#o.logger.info({ lease: this.#o.lease, identity: this.#o.identity }, leading ? 'leading: this replica runs the controllers' : 'not leading: the controllers run on another replica');
    this.#o.onChange(leading);
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = this.#now();
    const spec = (previous?: V1Lease['spec']) => {
      const mine = previous?.holderIdentity === this.#o.identity;
      return {
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        acquireTime: mine && previous?.acquireTime ? microTime(previous.acquireTime) : new V1MicroTime(now),
        renewTime: new V1MicroTime(now),
        leaseTransitions: (previous?.leaseTransitions ?? 0) + (mine ? 0 : 1),
      };
    };
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ namespace: this.#namespace, name: this.#name });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      try {
        await this.#api.createNamespacedLease({ namespace: this.#namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.#name, namespace: this.#namespace }, spec: { ...spec(), leaseTransitions: 0 } } });
      } catch (e) {
        if ((e as { code?: number }).code === 409) return false; // another replica created it first
        throw e;
      }
      this.#observed = { holder: this.#o.identity, renew: '', at: now };
      return true;
    }
    const holder = lease.spec?.holderIdentity ?? '';
    const renew = String(lease.spec?.renewTime ?? '');
    if (!this.#observed || this.#observed.holder !== holder || this.#observed.renew !== renew) this.#observed = { holder, renew, at: now };
    const duration = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (holder !== '' && holder !== this.#o.identity && this.#observed.at + duration > now) return false;
    lease.spec = spec(lease.spec);
    try {
      await this.#api.replaceNamespacedLease({ namespace: this.#namespace, name: this.#name, body: lease });
    } catch (err) {
      if ((err as { code?: number }).code === 409) return false; // written by another replica since the read
      throw err;
    }
    this.#observed = { holder: this.#o.identity, renew: '', at: now };
    return true;
  }
}

/** The promise's outcome, or a rejection once ms have passed without one. */
async function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const wait = Math.max(ms, 1);
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${wait} ms`)), wait)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** client-node reads a MicroTime back as the string the server wrote (its type says Date); written again, it must keep its six digits. */
function microTime(v: unknown): V1MicroTime {
  return new V1MicroTime(v instanceof Date ? v.getTime() : Date.parse(String(v)));
}
