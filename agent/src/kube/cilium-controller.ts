// Keeps the emitted Cilium objects (cilium-policies.ts) as they should be: one policy per
// namespace labelled altrace.io/enforce=true (or holding a pod so labelled, for those pods
// alone), created as the label appears, removed as it goes,
// put back when someone edits or deletes it (drift), and updated as the AI addresses change.
// Each is owned by the altracepolicies CRD, so uninstalling Altrace (deleting its CRDs) lets the
// garbage collector remove them: nothing is left denying what no proxy serves.
import { ApiextensionsV1Api, CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, type V1Namespace, type V1Pod } from '@kubernetes/client-node';
import type { Logger, McpServerPins } from '../../../proxy/src/index.js';
import { DestinationResolver, type DestinationSpec, type DnsResolver } from '../node/destinations.js';
import { GROUP, POLICIES } from './crds.js';
import { CILIUM_GROUP, CILIUM_VERSION, LOCAL_REDIRECTS, MANAGED_BY, NETWORK_POLICIES, localRedirectPolicy, mcpServerPolicy, namespacePolicy, type LocalRedirect, type OwnerRef } from './cilium-policies.js';
import { syncEmitted, type Emitted } from './emitted.js';
import { Informer, waitListed } from './informer.js';
import { ReconcileLoop } from './reconcile-loop.js';


export interface CiliumControllerOptions {
  /** Whether this replica reconciles now (it leads); always, without leader election. */
  leading?: () => boolean;
  kubeConfig: KubeConfig;
  logger: Logger;
  inactivityMs: number;
  /** The AI destinations: provider hosts, published ranges, configured extras. */
  destinations: readonly DestinationSpec[];
  dns: DnsResolver;
  minTtlS: number;
  maxTtlS: number;
  proxyPorts: readonly number[];
  dnsLabels: Record<string, string>;
  localRedirect: LocalRedirect | null;
  /**
   * The MCP registry of the fleet's policy now (null: none pushed): each server declaring `pods` and
   * `egress` gets its CiliumNetworkPolicy. Call schedule() when it changes (resyncs catch up otherwise).
   */
  mcpServers?: () => ReadonlyMap<string, Pick<McpServerPins, 'pods' | 'egress'>> | null;
  resyncMs?: number;
}

const ENFORCED = 'altrace.io/enforce=true';

export class CiliumController {
  readonly #o: CiliumControllerOptions;
  readonly #custom: CustomObjectsApi;
  readonly #crds: ApiextensionsV1Api;
  readonly #namespaces: Informer<V1Namespace>;
  /** Pods labelled in wherever their namespace is not: their namespace gets a policy for them alone. */
  readonly #labelledPods: Informer<V1Pod>;
  readonly #policies: Informer<Emitted>;
  readonly #redirects: Informer<Emitted> | null;
  readonly #nets = new Set<string>();
  readonly #resolver: DestinationResolver;
  #ownerGone = false;
  readonly #loop: ReconcileLoop;
  readonly counts = { reconciles: 0, created: 0, replaced: 0, deleted: 0 };

  constructor(o: CiliumControllerOptions) {
    this.#o = o;
    this.#custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
    this.#loop = new ReconcileLoop('keeping the Cilium policies in sync', () => this.#reconcile(), o.logger, o.leading);
    this.#crds = o.kubeConfig.makeApiClient(ApiextensionsV1Api);
    const core = o.kubeConfig.makeApiClient(CoreV1Api);
    const managed = `${MANAGED_BY.key}=${MANAGED_BY.value}`;
    this.#namespaces = new Informer<V1Namespace>(o, 'governed namespaces', '/api/v1/namespaces', () => core.listNamespace({ labelSelector: ENFORCED }), { labelSelector: ENFORCED });
    this.#labelledPods = new Informer<V1Pod>(o, 'governed pods', '/api/v1/pods', () => core.listPodForAllNamespaces({ labelSelector: ENFORCED }), { labelSelector: ENFORCED });
    const emitted = (plural: string) =>
      new Informer<Emitted>(o, plural, `/apis/${CILIUM_GROUP}/${CILIUM_VERSION}/${plural}`, () => this.#custom.listCustomObjectForAllNamespaces({ group: CILIUM_GROUP, version: CILIUM_VERSION, resourcePlural: plural, labelSelector: managed }), { labelSelector: managed });
    this.#policies = emitted(NETWORK_POLICIES);
    this.#redirects = o.localRedirect ? emitted(LOCAL_REDIRECTS) : null;
    for (const i of this.#informers()) for (const e of ['add', 'update', 'delete'] as const) (i as Informer<KubernetesObject>).lw.on(e, () => this.schedule());
    this.#resolver = new DestinationResolver(
      o.destinations,
      {
        add: (net) => {
          if (!this.#nets.has(net)) (this.#nets.add(net), this.schedule());
        },
        remove: (net) => {
          const had = this.#nets.delete(net);
          if (had) this.schedule();
          return had;
        },
      },
      { dns: o.dns, minTtlS: o.minTtlS, maxTtlS: o.maxTtlS, onError: (host, err) => o.logger.warn({ host, err: err.message }, 'resolving an AI destination for the Cilium policies failed; keeping its last addresses') },
    );
  }

  #informers(): Informer<KubernetesObject>[] {
    return [this.#namespaces, this.#labelledPods, this.#policies, ...(this.#redirects ? [this.#redirects] : [])] as Informer<KubernetesObject>[];
  }

  async start(waitMs = 5000): Promise<boolean> {
    for (const i of this.#informers()) i.start();
    await this.#resolver.start();
    const listed = await waitListed(this.#informers(), waitMs);
    this.#loop.start(this.#o.resyncMs ?? 30_000);
    return listed;
  }

  /** The AI nets the policies deny now. */
  nets(): string[] {
    return [...this.#nets].sort();
  }

  schedule(delayMs = 50): void {
    this.#loop.schedule(delayMs);
  }

  /** Reconciles now (or once more after the run under way); resolves when done. */
  reconcile(): Promise<void> {
    return this.#loop.now();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    this.#resolver.close();
    for (const i of this.#informers()) await i.stop();
  }

  /** The altracepolicies CRD as the owner; 'gone' while it is deleted (Altrace is being uninstalled). */
  async #ownerRef(): Promise<OwnerRef | 'gone'> {
    try {
      const crd = await this.#crds.readCustomResourceDefinition({ name: `${POLICIES.plural}.${GROUP}` });
      return { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: crd.metadata!.name!, uid: crd.metadata!.uid! };
    } catch (err) {
      if ((err as { code?: number }).code === 404) return 'gone';
      throw err;
    }
  }

  async #reconcile(): Promise<void> {
    if (!this.#informers().every((i) => i.listed)) return;
    this.counts.reconciles++;
    const owner = await this.#ownerRef();
    if (owner === 'gone') {
      // Emitting now would leave policies nothing owns, denying what no proxy may serve after the uninstall.
      if (!this.#ownerGone) this.#o.logger.warn(`the ${POLICIES.plural}.${GROUP} CRD is gone (Altrace uninstalled?): no Cilium policies are emitted until it is back`);
      this.#ownerGone = true;
      return;
    }
    this.#ownerGone = false;
    const opts = { nets: this.nets(), proxyPorts: this.#o.proxyPorts, dnsLabels: this.#o.dnsLabels, owner };
    const governed = this.#namespaces.lw.list().map((n) => n.metadata!.name!).filter((n) => !this.#namespaces.lw.get(n)?.metadata?.deletionTimestamp);
    const desired = new Map<string, Emitted & { metadata: { name: string; namespace: string } }>(governed.map((ns) => [ns, namespacePolicy(ns, opts)]));
    for (const p of this.#labelledPods.lw.list()) {
      const ns = p.metadata?.namespace;
      if (ns && !desired.has(ns)) desired.set(ns, namespacePolicy(ns, opts, 'labelled-pods'));
    }
    for (const [server, entry] of this.#o.mcpServers?.() ?? []) {
      if (!entry.pods || !entry.egress) continue;
      try {
        const p = mcpServerPolicy(server, entry.pods, entry.egress, opts);
        desired.set(`${p.metadata.namespace}/${p.metadata.name}`, p);
      } catch (err) {
        // The policy's load checks the same (agent/src/policy/load.ts): only a policy loaded elsewhere gets here.
        this.#o.logger.error({ server, err: (err as Error).message }, 'an MCP server\'s egress cannot be a Cilium policy: its pods are not confined');
      }
    }
    // The redirect is kept even when a network policy could not be written (and the other way round); both failures are reported.
    const results = await Promise.allSettled([
      this.#sync(NETWORK_POLICIES, this.#policies, desired),
      this.#redirects && this.#o.localRedirect ? this.#sync(LOCAL_REDIRECTS, this.#redirects, new Map([[this.#o.localRedirect.namespace, localRedirectPolicy(this.#o.localRedirect, owner)]])) : Promise.resolve(),
    ]);
    const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    if (failed.length) throw failed.length === 1 ? failed[0] : new AggregateError(failed, failed.map((e) => e.message).join('; '));
  }

  async #sync(plural: string, informer: Informer<Emitted>, desired: Map<string, Emitted & { metadata: { name: string; namespace: string } }>): Promise<void> {
    const base = { group: CILIUM_GROUP, version: CILIUM_VERSION, plural };
    const report = await syncEmitted(
      {
        create: (namespace, body) => this.#custom.createNamespacedCustomObject({ ...base, namespace, body }),
        replace: (namespace, name, body) => this.#custom.replaceNamespacedCustomObject({ ...base, namespace, name, body }),
        delete: (namespace, name) => this.#custom.deleteNamespacedCustomObject({ ...base, namespace, name }),
      },
      informer.lw.list(),
      desired,
      () => this.schedule(100),
    );
    this.counts.created += report.created.length;
    this.counts.replaced += report.replaced.length;
    this.counts.deleted += report.deleted.length;
    if (report.created.length) this.#o.logger.info({ plural, objects: report.created }, 'Cilium policies emitted');
    if (report.replaced.length) this.#o.logger.warn({ plural, objects: report.replaced }, 'emitted Cilium policies differed from what Altrace wants (edited, or the AI addresses changed): put back');
    if (report.deleted.length) this.#o.logger.info({ plural, objects: report.deleted }, 'Cilium policies removed: their namespaces are no longer governed');
  }
}
