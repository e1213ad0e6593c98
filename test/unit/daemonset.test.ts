// The Kubernetes manifests, offline: each validates against the API schemas, the kustomizations
// hold together, and the config the DaemonSet ships loads with the agent's own schema.
import test from 'ava';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import * as core from 'kubernetes-models/v1';
import * as apps from 'kubernetes-models/apps/v1';
import * as rbac from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { loadConfig } from '../../agent/src/config/load.js';
import { createRequire } from 'node:module';

// A CommonJS module whose types declare an ES default export: required, so the call is typed as it runs.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as typeof import('@balena/dockerignore').default;

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const DIR = join(ROOT, 'daemonset');

type Doc = { apiVersion: string; kind: string; metadata?: { name?: string }; data?: Record<string, string> };
const MODELS: Record<string, new (d: never) => { validate(): void }> = {
  'v1/Namespace': core.Namespace,
  'v1/ServiceAccount': core.ServiceAccount,
  'v1/ConfigMap': core.ConfigMap,
  'apps/v1/DaemonSet': apps.DaemonSet,
  'apps/v1/Deployment': apps.Deployment,
  'rbac.authorization.k8s.io/v1/ClusterRole': rbac.ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': rbac.ClusterRoleBinding,
};

function docs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
}

function kustomization(dir: string): { resources?: string[]; patches?: { path: string }[] } {
  return docs(join(dir, 'kustomization.yaml'))[0] as never;
}

/** Every resource a kustomization builds, following its bases. */
function build(dir: string): Doc[] {
  const k = kustomization(dir);
  return (k.resources ?? []).flatMap((r) => {
    const path = join(dir, r);
    return existsSync(join(path, 'kustomization.yaml')) ? build(path) : docs(path);
  });
}

test('every base manifest validates against the Kubernetes API schema', (t) => {
  const all = build(join(DIR, 'base'));
  t.true(all.length >= 6);
  for (const d of all) {
    const Model = MODELS[`${d.apiVersion}/${d.kind}`];
    t.truthy(Model, `a model for ${d.apiVersion} ${d.kind}`);
    t.notThrows(() => new Model!(d as never).validate(), `${d.kind} ${d.metadata?.name}`);
  }
  t.deepEqual(all.map((d) => d.kind).sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'DaemonSet', 'Namespace', 'ServiceAccount']);
});

test('a broken manifest is refused (the validation can fail)', (t) => {
  const ds = build(join(DIR, 'base')).find((d) => d.kind === 'DaemonSet')! as never as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
  const broken = structuredClone(ds);
  broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'eighty';
  t.throws(() => new apps.DaemonSet(broken as never).validate(), { message: /containerPort must be integer/ });
});

test('every kustomization names files that exist, and the overlay patches a resource of the base', (t) => {
  for (const dir of [join(DIR, 'base'), ...readdirSync(join(DIR, 'overlays')).map((o) => join(DIR, 'overlays', o))]) {
    const k = kustomization(dir);
    for (const r of k.resources ?? []) t.true(existsSync(join(dir, r)), `${dir}: ${r}`);
    for (const p of k.patches ?? []) {
      t.true(existsSync(join(dir, p.path)), `${dir}: ${p.path}`);
      const [patch] = docs(join(dir, p.path));
      t.true(build(dir).some((d) => d.kind === patch!.kind && d.metadata?.name === patch!.metadata?.name), `${p.path} patches ${patch!.kind}/${patch!.metadata?.name}`);
    }
  }
});

test('the config the DaemonSet ships is valid for this agent, with the per-node values from its env', (t) => {
  const cm = build(join(DIR, 'base')).find((d) => d.kind === 'ConfigMap')!;
  const ds = build(join(DIR, 'base')).find((d) => d.kind === 'DaemonSet')! as never as { spec: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } };
  const env = ds.spec.template.spec.containers[0]!.env;
  t.truthy(env.find((e) => e.name === 'ALTRACE_NODE_TRANSPARENT_HOST')?.valueFrom, 'the transparent address is the node’s');
  const dir = mkdtempSync(join(tmpdir(), 'altrace-ds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'altrace.yaml');
  writeFileSync(file, cm.data!['altrace.yaml']!);
  const config = loadConfig({ file, env: { ALTRACE_NODE_TRANSPARENT_HOST: '10.0.0.7', ALTRACE_ADMIN_TOKEN: 'a-token-of-sixteen-chars' } });
  t.like(config.node, { enforcement: 'bpf', cgroup: 'kubepods', transparent_host: '10.0.0.7', pin_dir: '/sys/fs/bpf/altrace', tls: 'terminate' });
  t.is(config.state_dir, '/var/lib/altrace');
  t.deepEqual(config.node.backstop_interfaces?.slice(0, 3), ['veth*', 'cali*', 'lxc*'], 'the packet backstop watches the common CNIs’ pod interfaces');
  t.deepEqual(config.node.strict, { cgroups: [], interfaces: [], allow: [] }, 'strict mode is off until a security team opts in');
  t.true(config.kubernetes.enabled, 'the agent watches its node’s pods');
  t.like(env.find((e) => e.name === 'NODE_NAME'), { valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, 'with its node’s name from the downward API');
  const role = build(join(DIR, 'base')).find((d) => d.kind === 'ClusterRole') as never as { rules: { resources: string[]; verbs: string[] }[] };
  t.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] }], 'read-only, pods and namespaces only');
});

test('the example agent workload validates and drops the capabilities that defeat the socket programs', (t) => {
  const all = docs(join(DIR, 'agent-namespace-example.yaml'));
  t.deepEqual(all.map((d) => d.kind), ['Namespace', 'Deployment']);
  for (const d of all) t.notThrows(() => new MODELS[`${d.apiVersion}/${d.kind}`]!(d as never).validate(), d.kind);
  const deployment = all[1] as never as { spec: { template: { spec: { hostNetwork: boolean; containers: { securityContext: { capabilities: { drop: string[] } } }[] } } } };
  t.false(deployment.spec.template.spec.hostNetwork);
  t.deepEqual(deployment.spec.template.spec.containers[0]!.securityContext.capabilities.drop, ['ALL']);
});

test('.dockerignore keeps state, keys, tests, logs and .git out of the image, and the sources in', (t) => {
  // Docker's own matching rules (a port of moby's), not a guess at them.
  const ignored = dockerignore().add(readFileSync(join(ROOT, '.dockerignore'), 'utf8'));
  const mustStayOut = [
    '.altrace/admin.token', '.altrace/master.key', '.altrace/delegation-root.pem', '.altrace/credentials.enc',
    '.altrace/audit/records.log', '.altrace/altrace.db', 'tour/.altrace/admin.token', 'deploy/master.key',
    '.env', 'daemonset/.env.local', '.git/HEAD', '.git/objects/ab/cdef', 'test/e2e/budgets.test.ts',
    'test/fixtures/content-corpus/secrets.jsonl', '.ci/run', 'agent.log', 'node_modules/pino/package.json',
    'dist/agent/src/runtime.js', 'build/Release/altrace.node', 'bpf/.output/altrace.bpf.o',
  ];
  const mustGoIn = [
    'package.json', 'package-lock.json', 'binding.gyp', 'tsconfig.json', 'bin/altrace.js', 'agent/src/runtime.ts',
    'agent/src/sim/server.ts', 'proxy/src/proxy.ts', 'native/src/addon.cc', 'bpf/connect.bpf.c', 'bpf/build.mjs',
    'policies/default.yaml', 'policies/config.schema.json', 'proto/altrace/v1/audit.proto', 'daemonset/Dockerfile',
  ];
  t.deepEqual(mustStayOut.filter((p) => !ignored.ignores(p)), [], 'these would be copied into the image');
  t.deepEqual(mustGoIn.filter((p) => ignored.ignores(p)), [], 'the image build needs these');
});
