// The trust bundle in every opted-in namespace (docs/kubernetes.md, "Admission webhook"): a
// ConfigMap holding the fleet's interception CA, alone and with the public roots, which the
// webhook mounts into the namespace's pods. Kept in sync like every emitted object: created as a
// namespace opts in, put back when edited, removed when it opts out, updated when the CA file
// changes (cert-manager renewing it).
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { CoreV1Api, type KubeConfig, type V1ConfigMap, type V1Namespace } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';
import { syncEmitted, type Emitted } from './emitted.js';
import { MANAGED_BY } from './cilium-policies.js';
import { Informer, waitListed } from './informer.js';
import { ReconcileLoop } from './reconcile-loop.js';
import { BUNDLE_KEY, CA_KEY, MODE, TRUST_CONFIGMAP } from './pod-mutation.js';
import { LABEL_ENFORCE } from './pod-identity.js';
import { apiErrorText } from './kube-config.js';

export interface TrustBundleOptions {
  /** Whether this replica reconciles now (it leads); always, without leader election. */
  leading?: () => boolean;
  kubeConfig: KubeConfig;
  logger: Logger;
  inactivityMs: number;
  /** The interception CA certificate (PEM), read again at every reconciliation. */
  caFile: string;
  resyncMs?: number;
}

const ENFORCED = `${LABEL_ENFORCE}=true`;

export class TrustBundles {
  readonly #o: TrustBundleOptions;
  readonly #core: CoreV1Api;
  readonly #namespaces: Informer<V1Namespace>;
  readonly #bundles: Informer<V1ConfigMap>;
  readonly #loop: ReconcileLoop;
  readonly counts = { reconciles: 0, created: 0, replaced: 0, deleted: 0 };

  constructor(o: TrustBundleOptions) {
    this.#o = o;
    this.#core = o.kubeConfig.makeApiClient(CoreV1Api);
    this.#loop = new ReconcileLoop('keeping the trust bundles in sync', () => this.#reconcile(), o.logger, o.leading);
    const managed = `${MANAGED_BY.key}=${MANAGED_BY.value}`;
    this.#namespaces = new Informer<V1Namespace>(o, 'opted-in namespaces', '/api/v1/namespaces', () => this.#core.listNamespace({ labelSelector: ENFORCED }), { labelSelector: ENFORCED });
    this.#bundles = new Informer<V1ConfigMap>(o, 'trust bundles', '/api/v1/configmaps', () => this.#core.listConfigMapForAllNamespaces({ labelSelector: managed }), { labelSelector: managed });
    for (const i of [this.#namespaces, this.#bundles] as Informer<Emitted>[]) for (const e of ['add', 'update', 'delete'] as const) i.lw.on(e, () => this.schedule());
  }

  async start(waitMs = 5000): Promise<boolean> {
    this.#namespaces.start();
    this.#bundles.start();
    const listed = await waitListed([this.#namespaces, this.#bundles], waitMs);
    this.#loop.start(this.#o.resyncMs ?? 30_000);
    return listed;
  }

  /**
   * Whether a namespace opted in, and whether it asked for explicit mode (its altrace.io/mode
   * annotation). The API server sends only reviews its namespaceSelector matched, so a namespace
   * the watch has not seen (not listed yet, or labelled a moment ago) is read from the API server
   * rather than taken as not opted in; when that read fails, this throws.
   */
  async namespace(name: string): Promise<{ optedIn: boolean; explicit: boolean }> {
    const judge = (ns: V1Namespace | undefined) => ({ optedIn: ns?.metadata?.labels?.[LABEL_ENFORCE] === 'true', explicit: ns?.metadata?.annotations?.[MODE] === 'explicit' });
    const cached = this.#namespaces.lw.get(name);
    if (cached) return judge(cached);
    try {
      return judge(await this.#core.readNamespace({ name }));
    } catch (err) {
      if ((err as { code?: number }).code === 404) return judge(undefined);
      throw new Error(`reading namespace ${name}: ${apiErrorText(err)}`);
    }
  }

  schedule(delayMs = 50): void {
    this.#loop.schedule(delayMs);
  }

  reconcile(): Promise<void> {
    return this.#loop.now();
  }

  async stop(): Promise<void> {
    await this.#loop.stop();
    await this.#namespaces.stop();
    await this.#bundles.stop();
  }

  /** The ConfigMap's data: the CA alone, and the CA after the public roots. */
  #data(): Record<string, string> {
    const ca = readFileSync(this.#o.caFile, 'utf8').trim();
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`${this.#o.caFile} holds no PEM certificate`);
    return { [CA_KEY]: `${ca}\n`, [BUNDLE_KEY]: `${[...rootCertificates, ca].join('\n')}\n` };
  }

  async #reconcile(): Promise<void> {
    if (!this.#namespaces.listed || !this.#bundles.listed) return;
    this.counts.reconciles++;
    const data = this.#data();
    const desired = new Map(
      this.#namespaces.lw.list().map((ns) => {
        const namespace = ns.metadata!.name!;
        return [namespace, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: TRUST_CONFIGMAP, namespace, labels: { [MANAGED_BY.key]: MANAGED_BY.value } }, data }];
      }),
    );
    const mine = this.#bundles.lw.list().filter((c) => c.metadata?.name === TRUST_CONFIGMAP) as Emitted[];
    const report = await syncEmitted(
      {
        create: (namespace, body) => this.#core.createNamespacedConfigMap({ namespace, body: body as V1ConfigMap }),
        replace: (namespace, name, body) => this.#core.replaceNamespacedConfigMap({ namespace, name, body: body as V1ConfigMap }),
        delete: (namespace, name) => this.#core.deleteNamespacedConfigMap({ namespace, name }),
      },
      mine,
      desired,
      () => this.schedule(100),
    );
    this.counts.created += report.created.length;
    this.counts.replaced += report.replaced.length;
    this.counts.deleted += report.deleted.length;
    if (report.created.length + report.replaced.length + report.deleted.length > 0) this.#o.logger.info(report, 'trust bundles synced');
  }
}
