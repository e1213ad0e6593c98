// The control plane's controller for the altrace.io resources (docs/kubernetes.md, "Policy as
// resources"): it watches AltracePolicy, AltraceContract and AltraceKillSwitch, turns them into
// the fleet policy and the kill switches, and writes each resource's status. GitOps: what is in
// the cluster is what is enforced.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';
import type { PolicyBundle } from '../policy/bundle.js';
import { CONTRACTS, GROUP, KILL_SWITCHES, POLICIES, VERSION, type CrdResource } from './crds.js';
import { Informer, waitListed } from './informer.js';
import { ReconcileLoop } from './reconcile-loop.js';
import type { KillResources, KillStatus } from './kill-resources.js';
import { compileResources, resourceRef, type Resource, type ResourceStatus } from './policy-resources.js';

type Custom = KubernetesObject & { spec?: unknown; status?: Record<string, unknown> };

export interface ResourceControllerOptions {
  /** Whether this replica reconciles now (it leads); always, without leader election. */
  leading?: () => boolean;
  kubeConfig: KubeConfig;
  logger: Logger;
  inactivityMs: number;
  /** The AltracePolicy that is the fleet policy (kubernetes.policy_name). */
  policyName: string;
  /** The control plane's own policy file and its contracts: the policy while no AltracePolicy is in force. */
  fallback: () => PolicyBundle;
  /** The fleet policy's digest now (null: none pushed). */
  currentDigest: () => string | null;
  /** Commits a bundle as the fleet policy (checked again, persisted, streamed to every node). */
  push: (bundle: PolicyBundle) => Promise<{ digest: string }>;
  kills: KillResources;
  /** How often everything is reconciled without an event (switches released through the API are engaged again). */
  resyncMs?: number;
}

interface Status {
  state: string;
  observedGeneration: number;
  [k: string]: unknown;
}

export class ResourceController {
  readonly #o: ResourceControllerOptions;
  readonly #api: CustomObjectsApi;
  readonly #informers: Map<CrdResource, Informer<Custom>>;
  /** Reconciliations done, and status writes made (for tests and metrics). */
  readonly #loop: ReconcileLoop;
  readonly counts = { reconciles: 0, statusWrites: 0, pushes: 0 };

  constructor(o: ResourceControllerOptions) {
    this.#o = o;
    this.#api = o.kubeConfig.makeApiClient(CustomObjectsApi);
    this.#loop = new ReconcileLoop('reconciling the altrace.io resources', () => this.#reconcile(), o.logger, o.leading);
    const base = `/apis/${GROUP}/${VERSION}`;
    this.#informers = new Map(
      [POLICIES, CONTRACTS, KILL_SWITCHES].map((r) => {
        const list = () =>
          r.scope === 'Cluster'
            ? this.#api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: r.plural })
            : this.#api.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, resourcePlural: r.plural });
        const informer = new Informer<Custom>(o, r.plural, `${base}/${r.plural}`, list);
        for (const e of ['add', 'update', 'delete'] as const) informer.lw.on(e, () => this.schedule());
        return [r, informer];
      }),
    );
  }

  /** Starts the watches and reconciles once they have listed (or after waitMs). */
  async start(waitMs = 5000): Promise<boolean> {
    for (const i of this.#informers.values()) i.start();
    const listed = await waitListed([...this.#informers.values()], waitMs);
    this.#loop.start(this.#o.resyncMs ?? 10_000);
    return listed;
  }

  schedule(delayMs = 50): void {
    this.#loop.schedule(delayMs);
  }

  /** Reconciles now (or once more after the run under way); resolves when done. */
  reconcile(): Promise<void> {
    return this.#loop.now();
  }

  status() {
    return Object.fromEntries([...this.#informers].map(([r, i]) => [r.plural, { ...i.status(), objects: i.lw.list().length }]));
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    for (const i of this.#informers.values()) await i.stop();
  }

  #objects(r: CrdResource): Custom[] {
    return [...this.#informers.get(r)!.lw.list()];
  }

  async #reconcile(): Promise<void> {
    // Until every watch has listed, a missing resource may only be unlisted: deciding on it could release a kill.
    if (![...this.#informers.values()].every((i) => i.listed)) return;
    this.counts.reconciles++;
    const policies = this.#objects(POLICIES);
    const contracts = this.#objects(CONTRACTS);
    const compiled = compileResources(this.#o.policyName, policies.map(asResource), contracts.map(asResource), this.#o.fallback);
    // Nothing in the cluster and nothing pushed: the nodes keep the policy they have.
    const anything = policies.length > 0 || contracts.length > 0 || this.#o.currentDigest() !== null;
    if (compiled.bundle && anything && compiled.digest !== this.#o.currentDigest()) {
      await this.#o.push(compiled.bundle);
      this.counts.pushes++;
      this.#o.logger.info({ digest: compiled.digest, policies: policies.length, contracts: contracts.length }, 'fleet policy from the altrace.io resources committed');
    }
    const kills = await this.#o.kills.reconcile(this.#objects(KILL_SWITCHES).map(asResource));
    await this.#writeAll(POLICIES, policies, compiled.policies);
    await this.#writeAll(CONTRACTS, contracts, compiled.contracts);
    await this.#writeAll(KILL_SWITCHES, this.#objects(KILL_SWITCHES), kills);
  }

  async #writeAll(r: CrdResource, objects: Custom[], statuses: Map<string, ResourceStatus | KillStatus>): Promise<void> {
    for (const o of objects) {
      const s = statuses.get(resourceRef({ name: o.metadata!.name!, namespace: o.metadata!.namespace }));
      if (s) await this.#writeStatus(r, o, s as unknown as Status);
    }
  }

  /** Writes a resource's status when it says something new (a condition keeps its transition time while its status holds). */
  async #writeStatus(r: CrdResource, o: Custom, s: Status): Promise<void> {
    const old = (o.status ?? {}) as Status & { conditions?: { status: string; lastTransitionTime: string }[] };
    const ready = s.state === 'Accepted' || s.state === 'Engaged' ? 'True' : 'False';
    const oldReady = old.conditions?.[0];
    const next: Record<string, unknown> = {
      // Fields a previous status had and this one lacks are cleared (a merge patch removes nulls).
      ...Object.fromEntries(Object.keys(old).map((k) => [k, null])),
      ...s,
      conditions: [
        {
          type: 'Ready',
          status: ready,
          observedGeneration: s.observedGeneration,
          lastTransitionTime: oldReady?.status === ready ? oldReady.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          reason: s.state,
          message: String(s.message ?? s.state).slice(0, 32_000),
        },
      ],
    };
    const same = Object.entries(next).every(([k, v]) => JSON.stringify(old[k] ?? null) === JSON.stringify(v));
    if (same) return;
    const meta = o.metadata!;
    const patch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    try {
      if (r.scope === 'Cluster') await this.#api.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: r.plural, name: meta.name!, body: { status: next } }, patch);
      else await this.#api.patchNamespacedCustomObjectStatus({ group: GROUP, version: VERSION, namespace: meta.namespace!, plural: r.plural, name: meta.name!, body: { status: next } }, patch);
      this.counts.statusWrites++;
    } catch (err) {
      // Deleted meanwhile: its deletion is the next event.
      if ((err as { code?: number }).code === 404) return;
      throw err;
    }
  }
}

function asResource(o: Custom): Resource {
  const m = o.metadata!;
  return { name: m.name!, namespace: m.namespace, generation: m.generation ?? 1, created: m.creationTimestamp instanceof Date ? m.creationTimestamp.toISOString() : String(m.creationTimestamp ?? ''), spec: o.spec };
}
