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
import * as batch from 'kubernetes-models/batch/v1';
import * as policyV1 from 'kubernetes-models/policy/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as admission from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { execFileSync } from 'node:child_process';
import { loadConfig } from '../../agent/src/config/load.js';
import { createRequire } from 'node:module';
import { podSpecCauses, podSpecOf } from '../fixtures/kube-pod-rules.js';

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
  'rbac.authorization.k8s.io/v1/Role': rbac.Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': rbac.RoleBinding,
  'batch/v1/Job': batch.Job,
  'v1/Service': core.Service,
  'v1/Secret': core.Secret,
  'apps/v1/StatefulSet': apps.StatefulSet,
  'policy/v1/PodDisruptionBudget': policyV1.PodDisruptionBudget,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': admission.MutatingWebhookConfiguration,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

/** cert-manager's kinds (not in kubernetes-models): the fields this repository relies on, checked by hand. */
const CERT_MANAGER: Record<string, (d: Record<string, unknown>) => string | null> = {
  Issuer: (d) => (d.spec && (('selfSigned' in (d.spec as object)) || ('ca' in (d.spec as object))) ? null : 'an Issuer needs selfSigned or ca'),
  Certificate: (d) => {
    const spec = d.spec as { secretName?: string; issuerRef?: { name?: string }; privateKey?: { algorithm?: string; size?: number } } | undefined;
    if (!spec?.secretName || !spec.issuerRef?.name) return 'a Certificate needs secretName and issuerRef';
    return spec.privateKey?.algorithm === 'ECDSA' && spec.privateKey.size === 256 ? null : 'the agent takes ECDSA P-256 keys only';
  },
};

/** Every directory under daemonset/ with a kustomization. */
function kustomizations(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    if (existsSync(join(dir, 'kustomization.yaml'))) out.push(dir);
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) walk(join(dir, e.name));
  };
  walk(DIR);
  return out;
}

/** `kubectl kustomize DIR`, or null where kubectl is not installed. */
function kustomize(dir: string): Doc[] | null {
  try {
    return parseAllDocuments(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })).map((d) => d.toJS() as Doc);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
const HAS_KUBECTL = (() => {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!HAS_KUBECTL) console.log('daemonset.test: kubectl is not installed here: the kubectl kustomize renderings are skipped (the in-process base checks still run)');

function docs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
}

function kustomization(dir: string): { kind?: string; resources?: string[]; components?: string[]; patches?: { path: string }[] } {
  return docs(join(dir, 'kustomization.yaml'))[0] as never;
}

/** A kustomize Component: built only as part of the kustomizations that name it. */
const isComponent = (dir: string) => kustomization(dir).kind === 'Component';

/** Every resource a kustomization builds, following its bases and components. */
function build(dir: string): Doc[] {
  const k = kustomization(dir);
  return [...(k.resources ?? []), ...(k.components ?? [])].flatMap((r) => {
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
    t.deepEqual(apiServerCauses(d), [], `${d.kind} ${d.metadata?.name}: what the API server checks beyond the schema`);
  }
  t.deepEqual([...new Set(all.map((d) => d.kind))].sort(), ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'CustomResourceDefinition', 'DaemonSet', 'Deployment', 'Namespace', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
});

test('a broken manifest is refused (the validation can fail)', (t) => {
  const ds = build(join(DIR, 'base')).find((d) => d.kind === 'DaemonSet')! as never as { spec: { template: { spec: { containers: { ports: { containerPort: unknown }[] }[] } } } };
  const broken = structuredClone(ds);
  broken.spec.template.spec.containers[0]!.ports[0]!.containerPort = 'eighty';
  t.throws(() => new apps.DaemonSet(broken as never).validate(), { message: /containerPort must be integer/ });
});

/** The API server's checks of a pod template that no schema carries. */
function apiServerCauses(d: Doc): string[] {
  const p = podSpecOf(d as never);
  return p ? podSpecCauses(p.spec, p.at).map((c) => `${c.field}: ${c.message}`) : [];
}

test('a pod template the schema passes but the API server refuses is caught: Bidirectional propagation in an unprivileged container', (t) => {
  const ds = build(join(DIR, 'base')).find((d) => d.kind === 'DaemonSet')! as Workload;
  const broken = structuredClone(ds);
  const preflight = broken.spec.template.spec.initContainers![0]!;
  preflight.securityContext = { ...preflight.securityContext, privileged: false };
  t.notThrows(() => new apps.DaemonSet(broken as never).validate(), 'the schema alone passes it');
  t.deepEqual(apiServerCauses(broken), ['spec.template.spec.initContainers[0].volumeMounts[0].mountPropagation: Forbidden: Bidirectional mount propagation is available only to privileged containers']);
  const unknownVolume = structuredClone(ds);
  const mounts = unknownVolume.spec.template.spec.containers[0]!.volumeMounts!;
  mounts.push({ name: 'nowhere', mountPath: '/nowhere' } as never);
  t.deepEqual(apiServerCauses(unknownVolume), [`spec.template.spec.containers[0].volumeMounts[${mounts.length - 1}].name: Not found: "nowhere"`]);
});

test('every kustomization names files that exist, and the overlay patches a resource of the base', (t) => {
  const all = kustomizations();
  for (const dir of all) {
    const k = kustomization(dir);
    for (const r of [...(k.resources ?? []), ...(k.components ?? [])]) t.true(existsSync(join(dir, r)), `${dir}: ${r}`);
    // A component's patches apply to what the kustomizations that name it build.
    const users = isComponent(dir) ? all.filter((u) => (kustomization(u).components ?? []).some((c) => resolve(u, c) === dir)) : [dir];
    if (isComponent(dir)) t.true(users.length > 0, `${dir}: a component some overlay uses`);
    for (const p of (k.patches ?? []).filter((p) => p.path)) {
      t.true(existsSync(join(dir, p.path)), `${dir}: ${p.path}`);
      const [patch] = docs(join(dir, p.path));
      for (const u of users) t.true(build(u).some((d) => d.kind === patch!.kind && d.metadata?.name === patch!.metadata?.name), `${p.path} patches ${patch!.kind}/${patch!.metadata?.name} in ${u}`);
    }
  }
});

test('the config the DaemonSet ships is valid for this agent, with the per-node values from its env', (t) => {
  const cm = build(join(DIR, 'base')).find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'altrace-config')!;
  const ds = build(join(DIR, 'base')).find((d) => d.kind === 'DaemonSet')! as never as { spec: { template: { spec: { containers: { env: { name: string; value?: string; valueFrom?: unknown }[] }[] } } } };
  const env = ds.spec.template.spec.containers[0]!.env;
  t.like(env.find((e) => e.name === 'NODE_IP'), { valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } });
  for (const name of ['ALTRACE_NODE_TRANSPARENT_HOST', 'ALTRACE_PROXY_HOST', 'ALTRACE_OPS_HOST']) t.is(env.find((e) => e.name === name)?.value, '$(NODE_IP)', `${name} is the node's address`);
  const dir = mkdtempSync(join(tmpdir(), 'altrace-ds-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'altrace.yaml');
  writeFileSync(file, cm.data!['altrace.yaml']!);
  const config = loadConfig({ file, env: { ALTRACE_NODE_TRANSPARENT_HOST: '10.0.0.7', ALTRACE_ADMIN_TOKEN: 'a-token-of-sixteen-chars' } });
  t.is(config.policy, '/etc/altrace/policy/policy.yaml', 'the policy comes from its ConfigMap, not the image');
  t.like(config.node, { ca_cert_file: '/etc/altrace/node-ca/tls.crt', ca_key_file: '/etc/altrace/node-ca/tls.key' });
  t.like(config.fleet, { control_plane: 'https://altrace-control-plane.altrace-system.svc:7443', ca_file: '/etc/altrace/fleet-ca/ca.crt' });
  t.like(config.node, { enforcement: 'bpf', cgroup: 'kubepods', transparent_host: '10.0.0.7', pin_dir: '/sys/fs/bpf/altrace', tls: 'terminate' });
  t.is(config.state_dir, '/var/lib/altrace');
  t.deepEqual(config.node.backstop_interfaces?.slice(0, 3), ['veth*', 'cali*', 'lxc*'], 'the packet backstop watches the common CNIs’ pod interfaces');
  t.deepEqual(config.node.strict, { cgroups: [], interfaces: [], allow: [] }, 'strict mode is off until a security team opts in');
  t.true(config.kubernetes.enabled, 'the agent watches its node’s pods');
  t.is(config.kubernetes.enforce, 'labeled', 'namespace opt-in, as the README says: the rest of the node is left alone');
  t.like(env.find((e) => e.name === 'NODE_NAME'), { valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, 'with its node’s name from the downward API');
  const role = build(join(DIR, 'base')).find((d) => d.kind === 'ClusterRole' && d.metadata?.name === 'altrace-agent') as never as { rules: { resources: string[]; verbs: string[] }[] };
  t.deepEqual(role.rules, [{ apiGroups: [''], resources: ['pods', 'namespaces', 'serviceaccounts'], verbs: ['get', 'list', 'watch'] }], 'read-only: pods, namespaces, service accounts');
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

test('kubectl kustomize renders the base, every overlay and the uninstall; every object validates', (t) => {
  if (!HAS_KUBECTL) return void t.pass('kubectl is not installed here (said above)');
  for (const dir of kustomizations().filter((d) => !isComponent(d))) {
    const all = kustomize(dir)!;
    t.true(all.length > 0, dir);
    for (const d of all) {
      const check = CERT_MANAGER[d.kind];
      if (d.apiVersion === 'cert-manager.io/v1' && check) {
        t.is(check(d as never), null, `${dir}: ${d.kind} ${d.metadata?.name}`);
        continue;
      }
      const Model = MODELS[`${d.apiVersion}/${d.kind}`];
      t.truthy(Model, `${dir}: a model for ${d.apiVersion} ${d.kind}`);
      // kustomize folds long base64 values over lines, which the API server's decoder skips.
      if (d.kind === 'Secret' && d.data) for (const k of Object.keys(d.data)) d.data[k] = d.data[k]!.replace(/\s/g, '');
      t.notThrows(() => new Model!(d as never).validate(), `${dir}: ${d.kind} ${d.metadata?.name}`);
      t.deepEqual(apiServerCauses(d), [], `${dir}: ${d.kind} ${d.metadata?.name}: what the API server checks beyond the schema`);
    }
  }
});

type Container = { name: string; env?: { name: string; value?: string }[]; securityContext?: { privileged?: boolean; capabilities?: { add?: string[]; drop?: string[] } }; volumeMounts?: { name: string; subPath?: string }[] };
type Workload = Doc & { spec: { template: { spec: { containers: Container[]; initContainers?: Container[]; volumes?: { name: string; secret?: { secretName: string; optional?: boolean }; configMap?: { name: string; optional?: boolean } }[] } } } };

test('the node agent: named capabilities instead of privileged, a preflight, no subPath, the optional and the operator-provided Secrets named', (t) => {
  const all = build(join(DIR, 'base'));
  const ds = all.find((d) => d.kind === 'DaemonSet') as Workload;
  const agent = ds.spec.template.spec.containers[0]!;
  t.false(agent.securityContext?.privileged ?? false);
  t.deepEqual(agent.securityContext?.capabilities, { drop: ['ALL'], add: ['BPF', 'NET_ADMIN', 'SYS_ADMIN', 'PERFMON', 'SYS_PTRACE', 'SYS_RESOURCE'] });
  t.is(ds.spec.template.spec.initContainers?.[0]?.name, 'preflight');
  for (const w of all.filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment') as Workload[]) {
    for (const c of w.spec.template.spec.containers) t.false((c.volumeMounts ?? []).some((m) => m.subPath), `${w.metadata?.name}/${c.name}: no subPath (edits must reach the pod)`);
  }
  // Every Secret and ConfigMap a workload mounts is made here, optional, or one the operator provides (daemonset/README.md).
  const made = new Set(all.filter((d) => d.kind === 'ConfigMap' || d.kind === 'Secret').map((d) => d.metadata!.name!));
  const operatorProvided = new Set(['altrace-node-ca', 'altrace-control-plane']);
  const publishedByControlPlane = new Set(['altrace-fleet-ca']);
  for (const w of all.filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment') as Workload[]) {
    for (const v of w.spec.template.spec.volumes ?? []) {
      const name = v.secret?.secretName ?? v.configMap?.name;
      if (!name) continue;
      const optional = v.secret?.optional ?? v.configMap?.optional ?? false;
      t.true(made.has(name) || optional || operatorProvided.has(name) || publishedByControlPlane.has(name), `${w.metadata?.name}: ${name}`);
    }
  }
  t.true((ds.spec.template.spec.volumes ?? []).some((v) => v.secret?.secretName === 'altrace-provider-credentials' && v.secret.optional), 'a missing credentials Secret is a named refusal, not a stuck pod');
  const readme = readFileSync(join(DIR, 'README.md'), 'utf8');
  for (const name of operatorProvided) t.true(readme.includes(name), `daemonset/README.md says how to make ${name}`);
});

test('the control plane: two replicas, a disruption budget, a Service; RBAC to what it watches and writes, no Secrets', (t) => {
  const all = build(join(DIR, 'base'));
  const cp = all.find((d) => d.kind === 'Deployment' && d.metadata?.name === 'altrace-control-plane') as Doc & { spec: { replicas: number } };
  t.is(cp.spec.replicas, 2);
  t.truthy(all.find((d) => d.kind === 'PodDisruptionBudget' && d.metadata?.name === 'altrace-control-plane'));
  t.truthy(all.find((d) => d.kind === 'Service' && d.metadata?.name === 'altrace-control-plane'));
  const role = all.find((d) => d.kind === 'ClusterRole' && d.metadata?.name === 'altrace-control-plane') as never as { rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[] };
  const grants = role.rules.flatMap((r) => r.resources.map((res) => `${r.apiGroups[0]}/${res}: ${r.verbs.join(',')}`)).sort();
  t.deepEqual(grants, [
    '/configmaps: get,list,watch,create,update,patch,delete',
    '/namespaces: get,list,watch',
    '/pods: list,watch',
    'altrace.io/altracecontracts/status: get,patch,update',
    'altrace.io/altracecontracts: get,list,watch',
    'altrace.io/altracekillswitches/status: get,patch,update',
    'altrace.io/altracekillswitches: get,list,watch',
    'altrace.io/altracepolicies/status: get,patch,update',
    'altrace.io/altracepolicies: get,list,watch',
    'apiextensions.k8s.io/customresourcedefinitions: get',
    'authentication.k8s.io/tokenreviews: create',
    'cilium.io/ciliumlocalredirectpolicies: get,list,watch,create,update,patch,delete',
    'cilium.io/ciliumnetworkpolicies: get,list,watch,create,update,patch,delete',
  ]);
  // Leadership: the Lease the config names, in the namespace the Role is in, get/update on that name only.
  const leader = all.find((d) => d.kind === 'Role' && d.metadata?.name === 'altrace-control-plane-leader') as never as { metadata: { namespace: string }; rules: { resources: string[]; resourceNames?: string[]; verbs: string[] }[] };
  t.deepEqual(leader.rules.map((r) => `${r.resources.join()}${r.resourceNames ? `/${r.resourceNames.join()}` : ''}: ${r.verbs.join()}`), ['leases: create', 'leases/altrace-control-plane: get,update']);
  const binding = all.find((d) => d.kind === 'RoleBinding' && d.metadata?.name === 'altrace-control-plane-leader') as never as { subjects: { name: string }[] };
  t.deepEqual(binding.subjects.map((s) => s.name), ['altrace-control-plane']);
  const cm = all.find((d) => d.kind === 'ConfigMap' && d.metadata?.name === 'altrace-control-plane-config')!;
  const dir = mkdtempSync(join(tmpdir(), 'altrace-cp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'altrace.yaml'), cm.data!['altrace.yaml']!);
  const config = loadConfig({ file: join(dir, 'altrace.yaml'), env: {} });
  t.like(config.kubernetes, { enabled: true, resources: true, fleet_ca_configmap: 'altrace-system/altrace-fleet-ca' });
  t.is(config.kubernetes.leader_election.lease, `${leader.metadata.namespace}/altrace-control-plane`);
  t.true(config.kubernetes.leader_election.enabled);
  t.deepEqual(config.fleet.enroll_service_accounts, ['altrace-system/altrace-agent', 'altrace-system/altrace-gateway']);
});

test('the Docker advisory compose file: one service, its ports on loopback, its volumes declared, no kernel privileges', (t) => {
  const compose = parseAllDocuments(readFileSync(join(DIR, 'docker/compose.yaml'), 'utf8'))[0]!.toJS() as { services: Record<string, { ports: string[]; volumes: string[]; privileged?: boolean; cap_add?: string[]; build: { dockerfile: string } }>; volumes: Record<string, unknown> };
  const svc = compose.services.altrace!;
  t.true(svc.ports.every((p) => p.startsWith('127.0.0.1:')), 'not published beyond the host');
  for (const v of svc.volumes) {
    const source = v.split(':')[0]!;
    t.true(source.startsWith('.') ? existsSync(join(DIR, 'docker', source)) : source in compose.volumes, v);
  }
  t.true(existsSync(join(DIR, 'docker', svc.build.dockerfile.replace('daemonset/', '../'))));
  t.falsy(svc.privileged);
  t.falsy(svc.cap_add);
});

test('the nftables overlay drops the preflight that would refuse its nodes (no BTF, no cgroup v2), the bpf overlay keeps it privileged', (t) => {
  if (!HAS_KUBECTL) return void t.pass('kubectl is not installed here (said above)');
  const agentOf = (dir: string) => kustomize(join(DIR, 'overlays', dir))!.find((d) => d.kind === 'DaemonSet' && d.metadata?.name === 'altrace-agent') as Workload;
  t.deepEqual(agentOf('nftables').spec.template.spec.initContainers ?? [], []);
  const preflight = agentOf('bpf').spec.template.spec.initContainers?.find((c) => c.name === 'preflight');
  t.true(preflight?.securityContext?.privileged, 'a bpffs mounted with Bidirectional propagation needs it');
  t.false(agentOf('bpf').spec.template.spec.containers[0]!.securityContext?.privileged ?? false, 'the agent itself stays unprivileged');
});

test('try-postgres makes every Secret the workloads need: the interception CA by a Job running `altrace kube node-ca` for the Secret the agents mount', (t) => {
  if (!HAS_KUBECTL) return void t.pass('kubectl is not installed here (said above)');
  const all = kustomize(join(DIR, 'overlays', 'try-postgres'))!;
  const job = all.find((d) => d.kind === 'Job' && d.metadata?.name === 'altrace-node-ca') as Doc & { spec: { template: { spec: { serviceAccountName: string; containers: { args: string[] }[] } } } };
  t.truthy(job, 'a Job makes the CA');
  const args = job.spec.template.spec.containers[0]!.args;
  t.deepEqual(args.slice(0, 2), ['kube', 'node-ca']);
  const mounted = new Set((all.filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment') as Workload[]).flatMap((w) => (w.spec.template.spec.volumes ?? []).map((v) => v.secret?.secretName).filter((n): n is string => !!n)));
  t.true(mounted.has(args[args.indexOf('--secret') + 1]!.split('/')[1]!), 'the Secret the workloads mount');
  const role = all.find((d) => d.kind === 'Role' && d.metadata?.name === 'altrace-node-ca') as Doc & { rules: { resources: string[]; verbs: string[] }[] };
  t.deepEqual(role.rules, [{ apiGroups: [''], resources: ['secrets'], verbs: ['create'] }] as never, 'create, nothing more: it never reads a Secret');
  // Every Secret a workload mounts that is not optional is made by this overlay.
  const made = new Set(all.filter((d) => d.kind === 'Secret').map((d) => d.metadata!.name!));
  made.add('altrace-node-ca');
  for (const w of all.filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment') as Workload[]) {
    for (const v of w.spec.template.spec.volumes ?? []) if (v.secret && !v.secret.optional) t.true(made.has(v.secret.secretName), `${w.metadata?.name}: ${v.secret.secretName}`);
  }
});
