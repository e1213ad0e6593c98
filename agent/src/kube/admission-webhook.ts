// The mutating admission webhook the control plane serves (docs/kubernetes.md, "Admission
// webhook"): HTTPS with its own certificate (a Secret's tls.crt/tls.key, read again when they
// change, as cert-manager renews them), answering AdmissionReview v1 for pods with the patch of
// pod-mutation.ts. Whether the API server admits a pod when this webhook cannot answer is the
// MutatingWebhookConfiguration's failurePolicy: the operator's declaration. A review the webhook
// cannot judge (it cannot tell whether the namespace opted in) is answered 503, never with an
// unpatched "allowed", so that the declared policy is what decides.
import { once } from 'node:events';
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../../proxy/src/index.js';
import { podPatch, type PodLike } from './pod-mutation.js';

export interface WebhookOptions {
  certFile: string;
  keyFile: string;
  logger: Logger;
  /** The node proxy's explicit port (the base-URL variables name it). */
  proxyPort: number;
  /** Whether a namespace opted in and asked for explicit mode; throws when that cannot be told. */
  namespace: (name: string) => Promise<{ optedIn: boolean; explicit: boolean }> | { optedIn: boolean; explicit: boolean };
}

const MAX_REVIEW_BYTES = 3 * 1024 * 1024;

interface AdmissionReview {
  apiVersion?: string;
  kind?: string;
  request?: { uid?: string; kind?: { kind?: string }; operation?: string; namespace?: string; object?: PodLike; dryRun?: boolean };
}

export class AdmissionWebhook {
  readonly #o: WebhookOptions;
  #server: Server | null = null;
  readonly counts = { reviews: 0, mutated: 0, refused: 0, undecided: 0 };

  constructor(o: WebhookOptions) {
    this.#o = o;
  }

  #credentials() {
    return { cert: readFileSync(this.#o.certFile), key: readFileSync(this.#o.keyFile) };
  }

  async listen(host: string, port: number): Promise<number> {
    const server = createServer({ ...this.#credentials(), minVersion: 'TLSv1.2' }, (req, res) => void this.#handle(req, res));
    server.listen(port, host);
    await once(server, 'listening');
    this.#server = server;
    // cert-manager renews the Secret in place; the kubelet updates the mounted files.
    const reload = () => {
      try {
        server.setSecureContext(this.#credentials());
        this.#o.logger.info({ cert: this.#o.certFile }, 'admission webhook certificate reloaded');
      } catch (err) {
        this.#o.logger.error({ err: (err as Error).message }, 'admission webhook certificate unreadable; serving the previous one');
      }
    };
    watchFile(this.#o.certFile, { interval: 5000 }, reload);
    return (server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    unwatchFile(this.#o.certFile);
    if (!this.#server) return;
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://webhook.invalid');
    if (url.pathname === '/healthz') return reply(res, 200, { status: 'ok' });
    if (req.method !== 'POST' || url.pathname !== '/mutate-pods') return reply(res, 404, { message: 'the webhook serves POST /mutate-pods (and GET /healthz)' });
    this.counts.reviews++;
    let review: AdmissionReview;
    try {
      review = JSON.parse(await body(req)) as AdmissionReview;
    } catch (err) {
      this.counts.refused++;
      return reply(res, 400, { message: `not an AdmissionReview: ${(err as Error).message}` });
    }
    const r = review.request;
    if (review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1' || typeof r?.uid !== 'string') {
      this.counts.refused++;
      return reply(res, 400, { message: 'expected an admission.k8s.io/v1 AdmissionReview with request.uid' });
    }
    const answer = (extra: Record<string, unknown>) => reply(res, 200, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: { uid: r.uid, allowed: true, ...extra } });
    // Only pods being created are changed; anything else the configuration sends is let through untouched.
    if (r.kind?.kind !== 'Pod' || r.operation !== 'CREATE' || !r.object || !r.namespace) return answer({});
    let ns: { optedIn: boolean; explicit: boolean };
    try {
      ns = await this.#o.namespace(r.namespace);
    } catch (err) {
      this.counts.undecided++;
      this.#o.logger.warn({ namespace: r.namespace, err: (err as Error).message }, 'admission review left to the failurePolicy: whether the namespace opted in is unknown');
      return reply(res, 503, { message: `cannot tell whether namespace ${r.namespace} opted in (${(err as Error).message}); the webhook's failurePolicy decides` });
    }
    if (!ns.optedIn) return answer({});
    const patch = podPatch(r.object, { explicit: ns.explicit, proxyPort: this.#o.proxyPort });
    if (patch.length === 0) return answer({});
    this.counts.mutated++;
    return answer({ patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') });
  }
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_REVIEW_BYTES) throw new Error(`larger than ${MAX_REVIEW_BYTES} bytes`);
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
