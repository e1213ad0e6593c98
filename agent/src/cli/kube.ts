import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CoreV1Api } from '@kubernetes/client-node';
import { apiErrorText, kubeConfigFor } from '../kube/kube-config.js';
import { createCaCertificate, exportPrivateKey, generateKeys } from '../pki/x509.js';
import { UsageError } from '../errors.js';

const HELP = `altrace kube — Kubernetes chores the manifests run

Usage:
  altrace kube node-ca [--secret NAMESPACE/NAME] [--days N] [--json]
  altrace kube node-ca --out DIR [--days N]

node-ca makes the fleet's interception CA (ECDSA P-256, path length 0, signing leaves only):
the CA every node terminates TLS with and every governed pod trusts. Without --out it creates the
kubernetes.io/tls Secret (default altrace-system/altrace-node-ca) unless one exists, which is left
as it is: run it as often as you like (overlays/try-postgres runs it as a Job). With --out it
writes tls.crt and tls.key (0600) to DIR for you to store yourself.

The API server is the pod's own (in-cluster service account), or kubernetes.api_server with
kubernetes.token_file from the environment (ALTRACE_KUBERNETES_API_SERVER, _TOKEN_FILE, _CA_FILE,
_INSECURE_SKIP_TLS_VERIFY).
Exit codes: 0 created or already there, 1 the API server refused, 2 usage error.
`;

const DEFAULT_SECRET = 'altrace-system/altrace-node-ca';

export async function kubeCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    return sub ? 0 : 2;
  }
  if (sub !== 'node-ca') throw new UsageError(`unknown subcommand "${sub}" (node-ca)`);
  const { values } = parseArgs({ args: rest, options: { secret: { type: 'string' }, out: { type: 'string' }, days: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const days = values.days === undefined ? 365 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 3650) throw new UsageError(`--days ${values.days}: a whole number of days from 1 to 3650`);
  if (values.out && values.secret) throw new UsageError('--out and --secret exclude each other: files, or a Secret');
  const keys = await generateKeys();
  const cert = (await createCaCertificate('CN=Altrace interception CA, O=Altrace', days, keys)).toString('pem') + '\n';
  const key = await exportPrivateKey(keys.privateKey);
  if (values.out) {
    mkdirSync(values.out, { recursive: true });
    // Key first: a certificate on disk always has its key.
    writeFileSync(join(values.out, 'tls.key'), key, { mode: 0o600 });
    writeFileSync(join(values.out, 'tls.crt'), cert, { mode: 0o644 });
    process.stdout.write(`wrote ${join(values.out, 'tls.crt')} and tls.key (valid ${days} days)\n`);
    return 0;
  }
  const ref = values.secret ?? DEFAULT_SECRET;
  const m = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-.a-z0-9]*[a-z0-9])?)$/.exec(ref);
  if (!m) throw new UsageError(`--secret ${ref}: NAMESPACE/NAME, both DNS labels`);
  const [namespace, name] = [m[1]!, m[3]!];
  const env = process.env;
  const api = kubeConfigFor({
    api_server: env.ALTRACE_KUBERNETES_API_SERVER,
    token_file: env.ALTRACE_KUBERNETES_TOKEN_FILE,
    ca_file: env.ALTRACE_KUBERNETES_CA_FILE,
    insecure_skip_tls_verify: env.ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY === 'true',
  }).makeApiClient(CoreV1Api);
  const say = (outcome: 'created' | 'exists') => {
    if (values.json) process.stdout.write(`${JSON.stringify({ secret: `${namespace}/${name}`, outcome })}\n`);
    else process.stdout.write(outcome === 'created' ? `created Secret ${namespace}/${name} (interception CA, valid ${days} days)\n` : `Secret ${namespace}/${name} exists; left as it is\n`);
    return 0;
  };
  try {
    await api.createNamespacedSecret({
      namespace,
      body: {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'kubernetes.io/tls',
        metadata: { name, namespace, labels: { 'app.kubernetes.io/part-of': 'altrace', 'app.kubernetes.io/managed-by': 'altrace' } },
        data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
      },
    });
    return say('created');
  } catch (err) {
    // Created by an earlier run (or by the operator): never replaced, since pods already trust it.
    if ((err as { code?: number }).code === 409) return say('exists');
    process.stderr.write(`altrace kube node-ca: the API server refused Secret ${namespace}/${name}: ${apiErrorText(err)}\n`);
    return 1;
  }
}

