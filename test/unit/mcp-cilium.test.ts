// An MCP server that runs as pods (mcp.servers.<name>.pods) is held to its registry entry's egress by
// a CiliumNetworkPolicy (agent/src/kube/cilium-policies.ts, mcpServerPolicy): valid against Cilium's
// CRD schema, allowing exactly the node proxy, the cluster DNS and the listed destinations; a policy
// whose entry Cilium could not take, or that lists an AI provider, is refused when it loads.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CiliumNetworkPolicy as CnpModel } from '@kubernetes-models/cilium/cilium.io/v2/CiliumNetworkPolicy';
import { stringify as stringifyYaml } from 'yaml';
import { mcpPolicyName, mcpServerPolicy } from '../../agent/src/kube/cilium-policies.js';
import { syncEmitted } from '../../agent/src/kube/emitted.js';
import { loadPolicy } from '../../agent/src/policy/load.js';
import { parseEgress, type EgressEntry } from '../../proxy/src/index.js';

const entries = (texts: string[]): EgressEntry[] => {
  const parsed = parseEgress(texts);
  if (!('entries' in parsed)) throw new Error(parsed.message);
  return parsed.entries;
};
const OPTIONS = { nets: ['203.0.113.10', '160.79.104.0/23'], proxyPorts: [8080, 15001], dnsLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' }, owner: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'altracepolicies.altrace.io', uid: 'u-1' } };

test('the policy selects the server’s pods and allows only the proxy, the cluster DNS and each listed destination, on its ports for any protocol', (t) => {
  const p = mcpServerPolicy('github', { namespace: 'tools', labels: { app: 'github-mcp' } }, entries(['api.github.com:443', '10.20.0.0/16:5432', '192.0.2.7']), OPTIONS);
  t.notThrows(() => new CnpModel(p as never).validate(), "valid against Cilium's schema");
  t.is(p.metadata.name, 'altrace-mcp-github');
  t.is(p.metadata.namespace, 'tools');
  t.is(p.metadata.labels['app.kubernetes.io/managed-by'], 'altrace');
  t.is((p.metadata as { ownerReferences?: { uid: string }[] }).ownerReferences?.[0]?.uid, 'u-1');
  t.deepEqual(p.spec.endpointSelector, { matchLabels: { 'k8s:app': 'github-mcp' } });
  t.deepEqual(p.spec.egress, [
    { toEntities: ['host'], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }, { port: '15001', protocol: 'TCP' }] }] },
    { toEndpoints: [{ matchLabels: { 'k8s:io.kubernetes.pod.namespace': 'kube-system', 'k8s:k8s-app': 'kube-dns' } }], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] },
    { toFQDNs: [{ matchName: 'api.github.com' }], toPorts: [{ ports: [{ port: '443', protocol: 'ANY' }] }] },
    { toCIDRSet: [{ cidr: '10.20.0.0/16' }], toPorts: [{ ports: [{ port: '5432', protocol: 'ANY' }] }] },
    { toCIDRSet: [{ cidr: '192.0.2.7/32' }] },
  ]);
  // Every AI address the controller knows is denied, as in the namespace policies: a listed CIDR holding a model endpoint opens no way around the proxy.
  t.deepEqual(p.spec.egressDeny, [{ toCIDRSet: [{ cidr: '160.79.104.0/23' }, { cidr: '203.0.113.10/32' }] }]);
  // egress: [] — the proxy and DNS, nothing else.
  t.is(mcpServerPolicy('quiet', { namespace: 'tools', labels: { app: 'q' } }, [], OPTIONS).spec.egress.length, 2);
  // The DNS peer is the configured one, as the namespace policies have it, whatever its labels.
  const coredns = mcpServerPolicy('github', { namespace: 'tools', labels: { app: 'github-mcp' } }, [], { ...OPTIONS, dnsLabels: { 'k8s:k8s-app': 'coredns', 'any:tier': 'dns' } });
  t.deepEqual(coredns.spec.egress[1]!.toEndpoints, [{ matchLabels: { 'k8s:k8s-app': 'coredns', 'any:tier': 'dns' } }]);
});

test('server names become object names that Kubernetes takes and that two servers never share', (t) => {
  t.is(mcpPolicyName('files'), 'altrace-mcp-files');
  const odd = mcpPolicyName('GitHub_Tools');
  t.regex(odd, /^altrace-mcp-github-tools-[0-9a-f]{8}$/);
  t.not(odd, mcpPolicyName('github-tools'));
  t.not(odd, mcpPolicyName('GitHub.Tools'));
  const long = mcpPolicyName('s'.repeat(250));
  t.true(long.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(long), long);
  t.not(long, mcpPolicyName('s'.repeat(251)));
});

test('a policy is refused when it loads if its pods could not be held to its egress, naming the field', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-mcp-pods-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const refused = (server: Record<string, unknown>) => {
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, stringifyYaml({ version: 1, mcp: { servers: { github: server } } }));
    return t.throws(() => loadPolicy(file))!.message;
  };
  const pods = { namespace: 'tools', labels: { app: 'github-mcp' } };
  t.regex(refused({ pods, egress: ['api.github.com:443', 'api.openai.com:443'] }), /mcp\.servers\.github\.egress\.1 .*AI provider/);
  t.regex(refused({ pods }), /mcp\.servers\.github\.pods pods needs egress/);
  t.regex(refused({ pods: { namespace: 'tools', labels: {} }, egress: [] }), /mcp\.servers\.github\.pods\.labels/);
  t.regex(refused({ pods: { namespace: 'tools', labels: { 'bad key!': 'x' } }, egress: [] }), /mcp\.servers\.github\.pods\.labels labels\["bad key!"\]/);
  t.regex(refused({ pods: { namespace: 'Tools', labels: { app: 'x' } }, egress: [] }), /mcp\.servers\.github\.pods\.namespace/);
  const file = join(dir, 'ok.yaml');
  writeFileSync(file, stringifyYaml({ version: 1, mcp: { servers: { github: { pods, egress: ['api.github.com:443'] } } } }));
  t.deepEqual(loadPolicy(file).mcp.get('github')!.pods, pods);
});

test('one object the API refuses (its namespace missing) does not hold up the others: each is written, then the failure is thrown', async (t) => {
  const calls: string[] = [];
  const api = {
    create: async (namespace: string, body: { metadata?: { name?: string } }) => {
      calls.push(`create ${namespace}/${body.metadata?.name}`);
      if (namespace === 'toolz') throw Object.assign(new Error('namespaces "toolz" not found'), { code: 404 });
    },
    replace: async () => undefined,
    delete: async (namespace: string, name: string) => void calls.push(`delete ${namespace}/${name}`),
  };
  const policy = (namespace: string, name: string) => ({ apiVersion: 'cilium.io/v2', kind: 'CiliumNetworkPolicy', metadata: { name, namespace }, spec: {} });
  const desired = new Map([
    ['toolz/altrace-mcp-typo', policy('toolz', 'altrace-mcp-typo')],
    ['tools/altrace-mcp-github', policy('tools', 'altrace-mcp-github')],
  ]);
  const err = await t.throwsAsync(syncEmitted(api, [policy('old-ns', 'altrace-ai-egress')], desired, () => undefined));
  t.regex(err!.message, /toolz\/altrace-mcp-typo: namespaces "toolz" not found/);
  t.deepEqual(calls, ['create toolz/altrace-mcp-typo', 'create tools/altrace-mcp-github', 'delete old-ns/altrace-ai-egress']);
});
