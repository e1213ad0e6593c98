// node.enforcement: cilium (issue 21, item 5): the control plane's controller keeps a
// CiliumNetworkPolicy in every opted-in namespace — validated by the stand-in API server against
// Cilium's published schema — denying the AI addresses it resolves (from a DNS server of the
// test's own), puts back what is edited or deleted, follows the namespace label and the
// addresses, adds the local redirect, and is garbage-collected with Altrace's CRDs.
import test from 'ava';
import { Resolver } from 'node:dns/promises';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { CiliumNetworkPolicy } from '@kubernetes-models/cilium/cilium.io/v2/CiliumNetworkPolicy';
import { CiliumController } from '../../agent/src/kube/cilium-controller.js';
import { crdManifests } from '../../agent/src/kube/crds.js';
import { createLogger } from '../../proxy/src/index.js';
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
