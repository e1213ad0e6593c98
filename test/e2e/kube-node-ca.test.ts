// `altrace kube node-ca`, the Job overlays/try-postgres runs so that `kubectl apply -k` needs no
// hand-made CA: a real CLI process against the stand-in API server creates the kubernetes.io/tls
// Secret once, leaves it alone after, and the CA it holds is one the node agent accepts.
import test from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { NodeCa } from '../../agent/src/node/ca.js';
import { startStandIn } from '../helpers/kube.js';
import { runCli } from '../helpers/process.js';

test('creates the interception CA Secret once; a second run leaves it; the node agent accepts the CA it holds', async (t) => {
  const { api, settings, dir } = await startStandIn(t);
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'altrace-system' } });
  const env = { ALTRACE_KUBERNETES_API_SERVER: settings.api_server, ALTRACE_KUBERNETES_TOKEN_FILE: settings.token_file, ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY: 'true' };
  const first = await runCli(['kube', 'node-ca', '--json'], env);
  t.is(first.code, 0, first.stderr);
  t.deepEqual(JSON.parse(first.stdout), { secret: 'altrace-system/altrace-node-ca', outcome: 'created' });
  const secret = api.get('secrets', 'altrace-system', 'altrace-node-ca') as unknown as { type: string; data: Record<string, string> };
  t.is(secret.type, 'kubernetes.io/tls');
  const crt = Buffer.from(secret.data['tls.crt']!, 'base64').toString('utf8');
  writeFileSync(join(dir, 'tls.crt'), crt);
  writeFileSync(join(dir, 'tls.key'), Buffer.from(secret.data['tls.key']!, 'base64'));
  const ca = await NodeCa.fromFiles(join(dir, 'tls.crt'), join(dir, 'tls.key'));
  t.is(ca.certPem.trim(), crt.trim());
  t.true(new X509Certificate(crt).ca);

  const second = await runCli(['kube', 'node-ca'], env);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stdout, /exists; left as it is/);
  const after = api.get('secrets', 'altrace-system', 'altrace-node-ca') as unknown as { data: Record<string, string> };
  t.is(after.data['tls.crt'], secret.data['tls.crt'], 'never replaced: pods already trust it');

  writeFileSync(join(dir, 'stranger'), 'not-a-token-the-server-issued');
  const refused = await runCli(['kube', 'node-ca', '--secret', 'altrace-system/other-ca'], { ...env, ALTRACE_KUBERNETES_TOKEN_FILE: join(dir, 'stranger') });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /the API server refused Secret altrace-system\/other-ca: HTTP 401/);
  t.is(api.get('secrets', 'altrace-system', 'other-ca'), undefined);
});

test('--out writes the CA as files (key 0600) the agent accepts; bad arguments are usage errors', async (t) => {
  const { dir } = await startStandIn(t);
  const out = join(dir, 'ca');
  const made = await runCli(['kube', 'node-ca', '--out', out, '--days', '30']);
  t.is(made.code, 0, made.stderr);
  await t.notThrowsAsync(NodeCa.fromFiles(join(out, 'tls.crt'), join(out, 'tls.key')));
  const validTo = Date.parse(new X509Certificate(readFileSync(join(out, 'tls.crt'))).validTo);
  t.true(Math.abs(validTo - Date.now() - 30 * 86_400_000) < 3_600_000, 'valid for the days asked');
  const usage = await runCli(['kube', 'node-ca', '--secret', 'Not_A_Name']);
  t.is(usage.code, 2);
  t.regex(usage.stderr, /--secret Not_A_Name: NAMESPACE\/NAME/);
  t.is((await runCli(['kube', 'node-ca', '--days', '0'])).code, 2);
  t.is((await runCli(['kube', 'frobnicate'])).code, 2);
});
