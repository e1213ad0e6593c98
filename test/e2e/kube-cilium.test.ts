// node.enforcement: cilium (issue 21, item 5): the control plane's controller keeps a
// CiliumNetworkPolicy in every opted-in namespace — validated by the stand-in API server against
// Cilium's published schema — denying the AI addresses it resolves (from a DNS server of the
// test's own), puts back what is edited or deleted, follows the namespace label and the
// addresses, adds the local redirect, and is garbage-collected with Altrace's CRDs; and one policy
// per MCP server that runs as pods, holding them to the fleet policy's registry egress.
import test from 'ava';
import { Resolver } from 'node:dns/promises';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CiliumNetworkPolicy } from '@kubernetes-models/cilium/cilium.io/v2/CiliumNetworkPolicy';
import { CiliumController } from '../../agent/src/kube/cilium-controller.js';
import { crdManifests } from '../../agent/src/kube/crds.js';
import { compileMcpRegistry, createLogger } from '../../proxy/src/index.js';
import type { McpRegistryDocument } from '../../proxy/src/policy/mcp-registry.js';
import { TestDnsServer } from '../fixtures/dns-server.js';
import type { KubeObject } from '../fixtures/kube-apiserver.js';
import { startStandIn } from '../helpers/kube.js';
import { eventually } from '../helpers/harness.js';

const silent = createLogger('silent');
const CNP = { group: 'cilium.io', version: 'v2', plural: 'ciliumnetworkpolicies' };

type Policy = KubeObject & { spec: { egressDeny?: { toCIDRSet: { cidr: string }[] }[]; endpointSelector: unknown } };

test('a policy per opted-in namespace, kept as Altrace wants it: drift put back, the label and the addresses followed, removed with the CRDs', async (t) => {
  const { api, kubeConfig } = await startStandIn(t);
  for (const { object } of crdManifests()) api.installCrd(object as never);
  const dns = await new TestDnsServer().start();
  t.teardown(() => dns.close());
  dns.records.set('api.openai.com', [{ address: '203.0.113.10', ttl: 1 }]);
  dns.records.set('api.anthropic.com', [{ address: '203.0.113.20', ttl: 300 }]);
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([dns.server]);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', labels: { 'altrace.io/enforce': 'true' } } });
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'batch' } });
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'altrace-system' } });

  const controller = new CiliumController({
    kubeConfig,
    logger: silent,
    inactivityMs: 60_000,
    destinations: [
      { provider: 'openai', host: 'api.openai.com' },
      { provider: 'anthropic', host: 'api.anthropic.com' },
      { provider: 'anthropic', host: '160.79.104.0/23', published: true },
      { provider: 'azure', host: '*.openai.azure.com' },
    ],
    dns: resolver,
    minTtlS: 1,
    maxTtlS: 300,
    proxyPorts: [8080, 15001],
    dnsLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' },
    localRedirect: { namespace: 'altrace-system', service: 'altrace-proxy', backendLabels: { 'app.kubernetes.io/name': 'altrace-agent' }, port: 8080 },
    resyncMs: 60_000,
  });
  t.teardown(() => controller.stop());
  t.true(await controller.start());
  const policy = () => api.get('ciliumnetworkpolicies', 'agents', 'altrace-ai-egress') as Policy | undefined;
  const denied = () => (policy()?.spec.egressDeny?.[0]?.toCIDRSet ?? []).map((c) => c.cidr).sort();
  await eventually(() => policy() !== undefined, 5000, 'the opted-in namespace has its policy');
  t.deepEqual(denied(), ['160.79.104.0/23', '203.0.113.10/32', '203.0.113.20/32']);
  t.notThrows(() => new CiliumNetworkPolicy(policy() as never).validate(), "valid against Cilium's schema");
  const crd = api.get('customresourcedefinitions', null, 'altracepolicies.altrace.io')!;
  t.is(policy()!.metadata.ownerReferences?.[0]?.uid, crd.metadata.uid, 'owned by the altracepolicies CRD');
  t.is(api.get('ciliumnetworkpolicies', 'batch', 'altrace-ai-egress'), undefined, 'a namespace that did not opt in has none');
  await eventually(() => api.get('ciliumlocalredirectpolicies', 'altrace-system', 'altrace-proxy-redirect') !== undefined, 5000, 'the local redirect');

  // Edited by hand: put back. Deleted by hand: restored.
  await custom.patchNamespacedCustomObject({ ...CNP, namespace: 'agents', name: 'altrace-ai-egress', body: { spec: { egressDeny: null } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
  await eventually(() => denied().length === 3, 5000, 'the edit is reverted');
  await custom.deleteNamespacedCustomObject({ ...CNP, namespace: 'agents', name: 'altrace-ai-egress' });
  await eventually(() => policy() !== undefined && denied().length === 3, 5000, 'the deleted policy is restored');

  // The label followed both ways, on namespaces already there.
  api.update('namespaces', null, 'batch', (ns) => (ns.metadata.labels = { 'altrace.io/enforce': 'true' }));
  await eventually(() => api.get('ciliumnetworkpolicies', 'batch', 'altrace-ai-egress') !== undefined, 5000, 'labelling a namespace brings its policy');
  api.update('namespaces', null, 'batch', (ns) => (ns.metadata.labels = {}));
  await eventually(() => api.get('ciliumnetworkpolicies', 'batch', 'altrace-ai-egress') === undefined, 5000, 'unlabelling removes it');

  // A pod labelled in, in a namespace that is not: a policy for the labelled pods alone, gone with the label.
  api.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'lone-agent', namespace: 'batch', labels: { 'altrace.io/enforce': 'true' } }, spec: { containers: [{ name: 'agent', image: 'agent:1' }] } });
  await eventually(() => api.get('ciliumnetworkpolicies', 'batch', 'altrace-ai-egress') !== undefined, 5000, 'a pod opted in by its own label brings a policy to its namespace');
  const forPods = api.get('ciliumnetworkpolicies', 'batch', 'altrace-ai-egress') as Policy;
  t.deepEqual(forPods.spec.endpointSelector, { matchLabels: { 'altrace.io/enforce': 'true' } }, 'for the labelled pods only, not the namespace');
  t.notThrows(() => new CiliumNetworkPolicy(forPods as never).validate());
  api.update('pods', 'batch', 'lone-agent', (p) => (p.metadata.labels = {}));
  await eventually(() => api.get('ciliumnetworkpolicies', 'batch', 'altrace-ai-egress') === undefined, 5000, 'the label removed, the policy goes');

  // A provider moves: the new address is denied once its TTL runs out (the old one is held a TTL more).
  dns.records.set('api.openai.com', [{ address: '203.0.113.11', ttl: 1 }]);
  await eventually(() => denied().includes('203.0.113.11/32'), 8000, 'the new address is denied');

  // Uninstalling Altrace deletes its CRDs: the garbage collector removes what they own.
  api.delete('customresourcedefinitions', null, 'altracepolicies.altrace.io');
  await eventually(() => policy() === undefined, 5000, 'the emitted policy goes with the CRD');
  await controller.reconcile();
  t.is(policy(), undefined, 'and is not emitted again while the CRD is gone');
});

test('an MCP server running as pods gets a policy holding it to its registry egress: emitted, followed as the fleet policy changes, put back, removed with the server', async (t) => {
  const { api, kubeConfig } = await startStandIn(t);
  for (const { object } of crdManifests()) api.installCrd(object as never);
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'tools' } });
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const registry = (servers: McpRegistryDocument['servers']) => compileMcpRegistry({ servers });
  let fleet = registry({
    github: { egress: ['api.github.com:443'], pods: { namespace: 'tools', labels: { app: 'github-mcp' } } },
    // Confined only when wrapped (no pods): no Cilium policy.
    files: { egress: [] },
  });
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers(['127.0.0.1:9']);
  const controller = new CiliumController({
    kubeConfig,
    logger: silent,
    inactivityMs: 60_000,
    destinations: [],
    dns: resolver,
    minTtlS: 1,
    maxTtlS: 300,
    proxyPorts: [8080, 15001],
    dnsLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' },
    localRedirect: null,
    mcpServers: () => fleet,
    resyncMs: 60_000,
  });
  t.teardown(() => controller.stop());
  t.true(await controller.start());
  type Held = KubeObject & { spec: { endpointSelector: unknown; egress: { toFQDNs?: { matchName: string }[]; toPorts?: unknown }[] } };
  const github = () => api.get('ciliumnetworkpolicies', 'tools', 'altrace-mcp-github') as Held | undefined;
  const fqdns = () => (github()?.spec.egress ?? []).flatMap((r) => r.toFQDNs ?? []).map((f) => f.matchName);
  await eventually(() => github() !== undefined, 5000, 'the server’s policy is emitted');
  t.notThrows(() => new CiliumNetworkPolicy(github() as never).validate(), "valid against Cilium's schema");
  t.deepEqual(github()!.spec.endpointSelector, { matchLabels: { 'k8s:app': 'github-mcp' } });
  t.deepEqual(fqdns(), ['api.github.com']);
  t.is(api.list('ciliumnetworkpolicies').filter((p) => p.metadata.name.startsWith('altrace-mcp-')).length, 1, 'a server without pods gets none');

  // Deleted by hand: restored.
  await custom.deleteNamespacedCustomObject({ ...CNP, namespace: 'tools', name: 'altrace-mcp-github' });
  await eventually(() => github() !== undefined, 5000, 'the deleted policy is restored');

  // The fleet policy widens the server's egress: the policy follows.
  fleet = registry({ github: { egress: ['api.github.com:443', 'uploads.github.com:443'], pods: { namespace: 'tools', labels: { app: 'github-mcp' } } } });
  controller.schedule(0);
  await eventually(() => fqdns().length === 2, 5000, 'the new destination is allowed');
  t.deepEqual(fqdns(), ['api.github.com', 'uploads.github.com']);

  // The server leaves the registry: its policy goes.
  fleet = registry({});
  controller.schedule(0);
  await eventually(() => github() === undefined, 5000, 'the policy of a server no longer listed is removed');
});
