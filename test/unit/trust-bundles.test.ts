// The trust bundle the webhook mounts, kept by the control plane in every opted-in namespace:
// created as a namespace opts in, put back when edited, renewed with the CA file, removed when
// the namespace opts out; the namespace's explicit mode read from its annotation.
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { TrustBundles } from '../../agent/src/kube/trust-bundles.js';
import { createCaCertificate, generateKeys } from '../../agent/src/pki/x509.js';
import { createLogger } from '../../proxy/src/index.js';
import { startStandIn } from '../helpers/kube.js';
import { eventually } from '../helpers/harness.js';

test('a bundle per opted-in namespace: the CA alone and after the public roots; drift put back, a renewed CA followed, an opt-out removed', async (t) => {
  const { api, kubeConfig, dir } = await startStandIn(t);
  const caFile = join(dir, 'ca.crt');
  const pem = async (cn: string) => (await createCaCertificate(`CN=${cn}`, 2, await generateKeys())).toString('pem');
  const first = await pem('first interception CA');
  writeFileSync(caFile, first);
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', labels: { 'altrace.io/enforce': 'true' }, annotations: { 'altrace.io/mode': 'explicit' } } });
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'batch' } });
  const bundles = new TrustBundles({ kubeConfig, logger: createLogger('silent'), inactivityMs: 60_000, caFile, resyncMs: 60_000 });
  t.teardown(() => bundles.stop());
  t.true(await bundles.start());
  const bundle = (ns: string) => api.get('configmaps', ns, 'altrace-trust-bundle') as { data?: Record<string, string> } | undefined;
  await eventually(() => bundle('agents') !== undefined, 5000, 'the opted-in namespace has its bundle');
  t.is(bundle('agents')!.data!['ca.crt']!.trim(), first.trim());
  t.true(bundle('agents')!.data!['bundle.crt']!.startsWith(rootCertificates[0]!), 'the public roots first');
  t.true(bundle('agents')!.data!['bundle.crt']!.trim().endsWith(first.trim()), 'then the interception CA');
  t.is(bundle('batch'), undefined);
  t.deepEqual(await bundles.namespace('agents'), { optedIn: true, explicit: true });
  t.deepEqual(await bundles.namespace('batch'), { optedIn: false, explicit: false });

  api.update('configmaps', 'agents', 'altrace-trust-bundle', (cm) => ((cm as unknown as { data: Record<string, string> }).data['ca.crt'] = 'tampered'));
  await eventually(() => bundle('agents')!.data!['ca.crt']!.trim() === first.trim(), 5000, 'an edit is put back');

  const second = await pem('renewed interception CA');
  writeFileSync(caFile, second);
  await bundles.reconcile();
  t.is(bundle('agents')!.data!['ca.crt']!.trim(), second.trim(), 'a renewed CA is published');

  api.update('namespaces', null, 'agents', (ns) => (ns.metadata.labels = {}));
  await eventually(() => bundle('agents') === undefined, 5000, 'an opt-out removes the bundle');
});

test('a namespace the watch has not seen is read from the API server; when that fails the webhook cannot judge (it throws)', async (t) => {
  const { api, kubeConfig, dir } = await startStandIn(t);
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, (await createCaCertificate('CN=interception CA', 2, await generateKeys())).toString('pem'));
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'fresh', labels: { 'altrace.io/enforce': 'true' } } });
  // Never started: its watch has listed nothing, as in the first moments of a replica.
  const bundles = new TrustBundles({ kubeConfig, logger: createLogger('silent'), inactivityMs: 60_000, caFile, resyncMs: 60_000 });
  t.deepEqual(await bundles.namespace('fresh'), { optedIn: true, explicit: false }, 'opted in, by a direct read');
  t.deepEqual(await bundles.namespace('absent'), { optedIn: false, explicit: false }, 'a namespace that does not exist did not opt in');
  await api.close();
  await t.throwsAsync(bundles.namespace('fresh'), { message: /reading namespace fresh/ });
});
