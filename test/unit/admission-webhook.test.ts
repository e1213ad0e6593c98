// The admission webhook over real HTTPS, as the API server calls it: an AdmissionReview in, a
// JSON patch out that, applied, leaves a pod that validates and carries the trust bundle (and,
// in explicit mode, the base URLs); pods of other namespaces, pods labelled out, and pods
// injected already are let through untouched.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pod } from 'kubernetes-models/v1';
import { AdmissionWebhook } from '../../agent/src/kube/admission-webhook.js';
import { podPatch, type JsonPatchOp } from '../../agent/src/kube/pod-mutation.js';
import { createCaCertificate, exportPrivateKey, generateKeys, signLeaf } from '../../agent/src/pki/x509.js';
import { createLogger } from '../../proxy/src/index.js';
import { applyJsonPatch } from '../fixtures/json-patch.js';

const silent = createLogger('silent');

function pod(extra: { labels?: Record<string, string>; annotations?: Record<string, string>; env?: { name: string; value: string }[] } = {}) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'agent-0', namespace: 'agents', labels: extra.labels, annotations: extra.annotations },
    spec: {
      initContainers: [{ name: 'setup', image: 'busybox' }],
      containers: [
        { name: 'agent', image: 'python:3.12', env: extra.env ?? [{ name: 'MODEL', value: 'gpt-4o' }] },
        { name: 'sidecar', image: 'node:24', volumeMounts: [{ name: 'data', mountPath: '/data' }] },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  };
}

const env = (p: ReturnType<typeof pod>, container: string) => Object.fromEntries(((p.spec.containers.find((c) => c.name === container) ?? p.spec.initContainers.find((c) => c.name === container)) as { env?: { name: string; value?: string }[] }).env!.map((e) => [e.name, e.value ?? 'fieldRef']));

test('the patch mounts the trust bundle in every container and sets the trust variables; a pod that sets one keeps its own', (t) => {
  const p = pod({ env: [{ name: 'MODEL', value: 'gpt-4o' }, { name: 'SSL_CERT_FILE', value: '/etc/ssl/mine.pem' }] });
  const patched = applyJsonPatch(p, podPatch(p, { explicit: false, proxyPort: 8080 }));
  t.notThrows(() => new Pod(patched as never).validate());
  const trust = patched.spec.volumes.find((v: { name: string; configMap?: { name: string; optional?: boolean } }) => v.name === 'altrace-trust') as { configMap?: { name: string; optional?: boolean } } | undefined;
  t.deepEqual(trust?.configMap, { name: 'altrace-trust-bundle' }, 'not optional: the pod waits for its bundle rather than start without the CA');
  for (const c of [...patched.spec.containers, ...patched.spec.initContainers]) {
    t.true((c as unknown as { volumeMounts: { mountPath: string }[] }).volumeMounts.some((m) => m.mountPath === '/etc/altrace/trust'), c.name);
  }
  t.like(env(patched, 'agent'), { NODE_EXTRA_CA_CERTS: '/etc/altrace/trust/ca.crt', REQUESTS_CA_BUNDLE: '/etc/altrace/trust/bundle.crt', SSL_CERT_FILE: '/etc/ssl/mine.pem', MODEL: 'gpt-4o' });
  t.like(env(patched, 'setup'), { SSL_CERT_FILE: '/etc/altrace/trust/bundle.crt' });
  t.false('OPENAI_BASE_URL' in env(patched, 'agent'), 'not in explicit mode');
  t.is(patched.metadata.annotations!['altrace.io/injected'], 'trust');
  t.deepEqual(podPatch(patched, { explicit: false, proxyPort: 8080 }), [], 'injected once');
  t.deepEqual(podPatch(pod({ labels: { 'altrace.io/enforce': 'false' } }), { explicit: true, proxyPort: 8080 }), [], 'a pod labelled out is left alone');
});

test('explicit mode: the node address from the downward API, before the base URLs that expand it', (t) => {
  const p = pod();
  const patched = applyJsonPatch(p, podPatch(p, { explicit: true, proxyPort: 8080 }));
  t.notThrows(() => new Pod(patched as never).validate());
  const names = (patched.spec.containers[0] as { env: { name: string }[] }).env.map((e) => e.name);
  t.true(names.indexOf('ALTRACE_NODE_IP') < names.indexOf('OPENAI_BASE_URL'));
  t.like(env(patched, 'agent'), { ALTRACE_NODE_IP: 'fieldRef', OPENAI_BASE_URL: 'http://$(ALTRACE_NODE_IP):8080/v1', ANTHROPIC_BASE_URL: 'http://$(ALTRACE_NODE_IP):8080' });
  t.is(patched.metadata.annotations!['altrace.io/injected'], 'trust,base-url');
});

async function webhookCert(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const caKeys = await generateKeys();
  const ca = await createCaCertificate('CN=webhook test CA', 2, caKeys);
  const keys = await generateKeys();
  const leaf = await signLeaf({ cert: ca, key: caKeys.privateKey }, { subject: 'CN=altrace-webhook', names: [{ type: 'dns', value: 'localhost' }, { type: 'ip', value: '127.0.0.1' }], usage: 'server', publicKey: keys.publicKey, notBefore: Date.now() - 60_000, notAfter: Date.now() + 86_400_000 });
  writeFileSync(join(dir, 'tls.crt'), leaf.toString('pem'));
  writeFileSync(join(dir, 'tls.key'), await exportPrivateKey(keys.privateKey));
  return { ca: ca.toString('pem'), cert: join(dir, 'tls.crt'), key: join(dir, 'tls.key') };
}

function post(port: number, ca: string, body: string): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/mutate-pods', method: 'POST', ca, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) as Record<string, unknown> }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('over HTTPS with its own certificate: an AdmissionReview for a pod of an opted-in namespace gets a JSON patch; other namespaces and bad reviews do not', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-webhook-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { ca, cert, key } = await webhookCert(dir);
  const namespaces: Record<string, { optedIn: boolean; explicit: boolean }> = { agents: { optedIn: true, explicit: true } };
  const webhook = new AdmissionWebhook({ certFile: cert, keyFile: key, logger: silent, proxyPort: 8080, namespace: (n) => namespaces[n] ?? { optedIn: false, explicit: false } });
  const port = await webhook.listen('127.0.0.1', 0);
  t.teardown(() => webhook.close());
  const review = (namespace: string, object = pod()) => JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: `uid-${namespace}`, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE', namespace, object } });

  const mutated = await post(port, ca, review('agents'));
  t.is(mutated.status, 200);
  const response = mutated.json.response as { uid: string; allowed: boolean; patchType: string; patch: string };
  t.like(response, { uid: 'uid-agents', allowed: true, patchType: 'JSONPatch' });
  const ops = JSON.parse(Buffer.from(response.patch, 'base64').toString('utf8')) as JsonPatchOp[];
  const patched = applyJsonPatch(pod(), ops);
  t.notThrows(() => new Pod(patched as never).validate());
  t.is(env(patched, 'agent').OPENAI_BASE_URL, 'http://$(ALTRACE_NODE_IP):8080/v1');

  const other = await post(port, ca, review('kube-system'));
  t.deepEqual(other.json.response, { uid: 'uid-kube-system', allowed: true }, 'a namespace that did not opt in: allowed, untouched');
  const bad = await post(port, ca, '{"kind":"AdmissionReview"');
  t.is(bad.status, 400);
  t.regex(String(bad.json.message), /not an AdmissionReview/);
  t.deepEqual(webhook.counts, { reviews: 3, mutated: 1, refused: 1, undecided: 0 });
});

test('a review it cannot judge (whether the namespace opted in is unknown) is a 503, so the failurePolicy decides, never an unpatched allow', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-webhook-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { ca, cert, key } = await webhookCert(dir);
  const webhook = new AdmissionWebhook({
    certFile: cert,
    keyFile: key,
    logger: silent,
    proxyPort: 8080,
    namespace: async () => {
      throw new Error('reading namespace agents: connect ECONNREFUSED');
    },
  });
  const port = await webhook.listen('127.0.0.1', 0);
  t.teardown(() => webhook.close());
  const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'Pod' }, operation: 'CREATE', namespace: 'agents', object: pod() } });
  const answer = await post(port, ca, body);
  t.is(answer.status, 503);
  t.regex(String(answer.json.message), /cannot tell whether namespace agents opted in .*ECONNREFUSED.*failurePolicy decides/);
  t.is(answer.json.response, undefined, 'no AdmissionReview answer, so no allowed: true');
  t.is(webhook.counts.undecided, 1);
});
