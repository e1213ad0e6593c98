// The fleet CA published as a ConfigMap for the DaemonSet (kubernetes.fleet_ca_configmap): what
// nodes trust their control plane by. Kept, not written once: created when missing (a deletion is
// put back, or new nodes would wait for it), replaced when it differs, retried on a conflict
// with another replica; run by the leader, as the other controllers are.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';
import { ReconcileLoop } from './reconcile-loop.js';

export class FleetCaConfigMap {
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #name: string;
  readonly #loop: ReconcileLoop;
  readonly counts = { written: 0 };

  constructor(
    kubeConfig: KubeConfig,
    ref: string,
    private readonly pem: string,
    private readonly logger: Logger,
    leading: () => boolean = () => true,
  ) {
    this.#api = kubeConfig.makeApiClient(CoreV1Api);
    [this.#namespace, this.#name] = ref.split('/') as [string, string];
    this.#loop = new ReconcileLoop(`publishing the fleet CA as ConfigMap ${ref}`, () => this.#publish(), logger, leading);
  }

  start(resyncMs = 30_000): void {
    this.#loop.start(resyncMs);
  }

  schedule(delayMs = 0): void {
    this.#loop.schedule(delayMs);
  }

  reconcile(): Promise<void> {
    return this.#loop.now();
  }

  stop(): Promise<void> {
    return this.#loop.stop();
  }

  async #publish(): Promise<void> {
    const namespace = this.#namespace;
    const name = this.#name;
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'altrace' } }, data: { 'ca.crt': this.pem } };
    try {
      const have = await this.#api.readNamespacedConfigMap({ namespace, name });
      if (have.data?.['ca.crt'] === this.pem) return;
      await this.#api.replaceNamespacedConfigMap({ namespace, name, body: { ...body, metadata: { ...body.metadata, resourceVersion: have.metadata?.resourceVersion } } });
    } catch (err) {
      const code = (err as { code?: number }).code;
      // Written by another replica between the read and the write: looked at again shortly.
      if (code === 409) return this.schedule(200);
      if (code !== 404) throw err;
      try {
        await this.#api.createNamespacedConfigMap({ namespace, body });
      } catch (e) {
        if ((e as { code?: number }).code === 409) return this.schedule(200);
        throw e;
      }
    }
    this.counts.written++;
    this.logger.info({ configmap: `${namespace}/${name}` }, 'fleet CA published for the nodes');
  }
}
