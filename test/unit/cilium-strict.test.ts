// Strict mode as a CiliumNetworkPolicy (agent/src/node/cilium-strict.ts, `altrace bpf
// cilium-policy`): the emitted object validates against Cilium's CRD schema, it allows exactly
// the listed egress (read with Cilium's semantics by a small model below), bad options are
// refused naming the field, the YAML round-trips, and the CLI's exit codes hold.
import test, { type ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CiliumNetworkPolicy as CnpModel } from '@kubernetes-models/cilium/cilium.io/v2/CiliumNetworkPolicy';
import { addressBytes } from '../../agent/src/bpf/address.js';
import { ConfigError } from '../../agent/src/errors.js';
import {
  NAMESPACE_LABEL,
  ciliumStrictPolicy,
  ciliumStrictPolicyYaml,
  type CiliumEgressRule,
  type CiliumNetworkPolicy,
  type CiliumSelector,
  type CiliumStrictOptions,
} from '../../agent/src/node/cilium-strict.js';
import { ROOT, runCli } from '../helpers/process.js';

/** The CRD schema of @kubernetes-models/cilium (generated from Cilium's Go API types). */
const validate = (policy: unknown) => new CnpModel(policy as never).validate();

const FULL: CiliumStrictOptions = {
  namespace: 'agents',
  name: 'agents-strict',
  podSelector: { 'app.kubernetes.io/part-of': 'agents', tier: 'worker' },
  proxy: { ports: [15001] },
  dns: { namespace: 'openshift-dns', podSelector: { 'dns.operator.openshift.io/daemonset-dns': 'default' } },
  allow: [
    { cidr: '10.20.0.0/16', ports: [5432] },
    { cidr: '2001:db8::/32', ports: [443, { port: 53, protocol: 'UDP' }] },
    { cidr: '192.0.2.7/32' },
    { fqdn: 'pypi.org', ports: [443] },
    { fqdn: '*.pythonhosted.org', ports: [443] },
    { namespace: 'observability', podSelector: { app: 'collector' }, ports: [{ port: 4317, protocol: 'ANY' }] },
    { namespace: 'agents' },
  ],
};

// ---- A model of how Cilium reads the policy: just enough to check what it allows. ----

type Dest =
  | { host: true }
  | { pod: { namespace: string; labels: Record<string, string> } }
  /** An address outside the cluster; `name` is the DNS name the pod resolved it from, if any. */
  | { world: { ip: string; name?: string } };
interface Flow {
  from?: Record<string, string>;
  to: Dest;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

/** A selector of a namespaced policy: without the namespace label it means the policy's namespace. */
function selects(sel: CiliumSelector, policyNs: string, ns: string, labels: Record<string, string>): boolean {
  const match = sel.matchLabels ?? {};
  if (!(NAMESPACE_LABEL in match) && ns !== policyNs) return false;
  return Object.entries(match).every(([k, v]) => (k === NAMESPACE_LABEL ? ns === v : labels[k.replace(/^k8s:/, '')] === v));
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, len] = cidr.split('/') as [string, string];
  const bits = Number(len) + (isIPv4(net) ? 96 : 0);
  const a = addressBytes(ip);
  const b = addressBytes(net);
  for (let bit = 0; bit < bits; bit++) if ((a[bit >> 3]! ^ b[bit >> 3]!) & (0x80 >> (bit & 7))) return false;
  return true;
}

function fqdnMatches(sel: { matchName?: string; matchPattern?: string }, name: string): boolean {
  if (sel.matchName !== undefined) return sel.matchName === name;
  const re = sel.matchPattern!.split('*').map((s) => s.replace(/[.]/g, '\\.')).join('[-a-z0-9_]*');
  return new RegExp(`^${re}$`).test(name);
}

function peerMatches(rule: CiliumEgressRule, to: Dest, policyNs: string): boolean {
  if (rule.toEntities) return 'host' in to && rule.toEntities.includes('host');
  if (rule.toEndpoints) return 'pod' in to && rule.toEndpoints.some((s) => selects(s, policyNs, to.pod.namespace, to.pod.labels));
  if (rule.toCIDRSet) return 'world' in to && rule.toCIDRSet.some((c) => inCidr(to.world.ip, c.cidr));
  if (rule.toFQDNs) return 'world' in to && to.world.name !== undefined && rule.toFQDNs.some((f) => fqdnMatches(f as never, to.world.name!));
  throw new Error(`a rule this model cannot read: ${JSON.stringify(rule)}`);
}

/** Whether Cilium lets the flow out: a selected pod is default-deny for egress (the policy has egress rules). */
function allowed(policy: CiliumNetworkPolicy, flow: Flow): boolean {
  const from = flow.from ?? {};
  if (!selects(policy.spec.endpointSelector, policy.metadata.namespace, policy.metadata.namespace, from)) return true;
  const protocol = flow.protocol ?? 'TCP';
  return policy.spec.egress.some(
    (rule) =>
      peerMatches(rule, flow.to, policy.metadata.namespace) &&
      (!rule.toPorts || rule.toPorts.some((pr) => pr.ports.some((p) => Number(p.port) === flow.port && (p.protocol === protocol || p.protocol === 'ANY')))),
  );
}

const KUBE_DNS: Dest = { pod: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } } };
const ANTHROPIC: Dest = { world: { ip: '160.79.104.10', name: 'api.anthropic.com' } };
const OPENAI: Dest = { world: { ip: '162.159.140.245', name: 'api.openai.com' } };

// The keys of cilium.io/v2 CiliumNetworkPolicy (Cilium 1.18 CRD) this generator may write; the
// model above reads exactly these, so a key outside them is both unknown to it and suspect.
const KNOWN = {
  policy: ['apiVersion', 'kind', 'metadata', 'spec'],
  metadata: ['name', 'namespace', 'labels'],
  spec: ['description', 'endpointSelector', 'egress'],
  rule: ['toEntities', 'toEndpoints', 'toCIDRSet', 'toFQDNs', 'toPorts'],
  selector: ['matchLabels'],
  portRule: ['ports', 'rules'],
  port: ['port', 'protocol'],
};

function keysWithin(t: ExecutionContext, value: object, known: readonly string[], at: string): void {
  for (const k of Object.keys(value)) t.true(known.includes(k), `${at}.${k} is a key the generator should not write`);
}

function checkShape(t: ExecutionContext, p: CiliumNetworkPolicy): void {
  keysWithin(t, p, KNOWN.policy, 'policy');
  keysWithin(t, p.metadata, KNOWN.metadata, 'metadata');
  keysWithin(t, p.spec, KNOWN.spec, 'spec');
  keysWithin(t, p.spec.endpointSelector, KNOWN.selector, 'spec.endpointSelector');
  p.spec.egress.forEach((rule, i) => {
    keysWithin(t, rule, KNOWN.rule, `egress[${i}]`);
    // One peer per rule: Cilium's To* members are mutually exclusive within a rule.
    t.is(Object.keys(rule).filter((k) => k !== 'toPorts').length, 1, `egress[${i}] has one peer`);
    t.deepEqual(rule.toEntities ?? ['host'], ['host'], `egress[${i}]: the only entity is the node itself`);
    for (const s of rule.toEndpoints ?? []) keysWithin(t, s, KNOWN.selector, `egress[${i}].toEndpoints`);
    for (const pr of rule.toPorts ?? []) {
      keysWithin(t, pr, KNOWN.portRule, `egress[${i}].toPorts`);
      t.true(pr.ports.length > 0 && pr.ports.length <= 40, `egress[${i}] lists 1-40 ports`);
      for (const port of pr.ports) {
        keysWithin(t, port, KNOWN.port, `egress[${i}].toPorts.ports`);
        t.regex(port.port, /^[1-9]\d*$/);
        t.true(Number(port.port) <= 65535);
      }
    }
  });
}

test('the default and a full policy validate against the CiliumNetworkPolicy CRD schema', (t) => {
  for (const options of [{ namespace: 'agents' }, { namespace: 'agents', dns: false }, FULL]) {
    const policy = ciliumStrictPolicy(options);
    t.notThrows(() => validate(policy), JSON.stringify(options));
    checkShape(t, policy);
    t.is(policy.apiVersion, 'cilium.io/v2');
    t.is(policy.kind, 'CiliumNetworkPolicy');
  }
  const d = ciliumStrictPolicy({ namespace: 'agents' });
  t.deepEqual(d.metadata, { name: 'altrace-strict', namespace: 'agents', labels: { 'app.kubernetes.io/managed-by': 'altrace' } });
  t.deepEqual(d.spec.endpointSelector, {}, 'every pod of the namespace');
  t.deepEqual(d.spec.egress[0], { toEntities: ['host'], toPorts: [{ ports: [{ port: '8080', protocol: 'TCP' }, { port: '15001', protocol: 'TCP' }] }] });
  t.deepEqual(d.spec.egress[1], {
    toEndpoints: [{ matchLabels: { [NAMESPACE_LABEL]: 'kube-system', 'k8s:k8s-app': 'kube-dns' } }],
    toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchPattern: '*' }] } }],
  });
  t.is(d.spec.egress.length, 2, 'no declared destination: the proxy and DNS only');
});

test('the schema validation can fail: broken policies are refused', (t) => {
  const p = ciliumStrictPolicy(FULL) as unknown as { spec: { egress: { toPorts: { ports: { port: unknown; protocol: string }[] }[]; toFQDNs?: unknown[] }[] } };
  const broken = (f: (q: typeof p) => void) => {
    const q = structuredClone(p);
    f(q);
    return q;
  };
  t.throws(() => validate(broken((q) => (q.spec.egress[0]!.toPorts[0]!.ports[0]!.protocol = 'ICMP'))), { message: /protocol must be equal to one of the allowed values/ });
  t.throws(() => validate(broken((q) => (q.spec.egress[0]!.toPorts[0]!.ports[0]!.port = 15001))), { message: /port must be string/ });
  t.throws(() => validate(broken((q) => (q.spec.egress[5]!.toFQDNs = [{ matchName: 'a.b', matchPattern: '*.a.b' }]))), { message: /must match exactly one schema/ });
  t.throws(() => validate(broken((q) => delete (q.spec as { endpointSelector?: unknown }).endpointSelector)), { message: /endpointSelector/ });
});

test('default deny: a selected pod reaches the node proxy, kube-dns and its declared destinations, nothing else', (t) => {
  const p = ciliumStrictPolicy({
    namespace: 'agents',
    allow: [
      { cidr: '10.20.0.0/16', ports: [5432] },
      { fqdn: 'pypi.org', ports: [443] },
      { fqdn: '*.pythonhosted.org', ports: [443] },
      { namespace: 'observability', podSelector: { app: 'collector' }, ports: [4317] },
      { cidr: '2001:db8::/32' },
    ],
  });
  const yes: [string, Flow][] = [
    ['the transparent listener', { to: { host: true }, port: 15001 }],
    ['the explicit proxy', { to: { host: true }, port: 8080 }],
    ['DNS over UDP', { to: KUBE_DNS, port: 53, protocol: 'UDP' }],
    ['DNS over TCP', { to: KUBE_DNS, port: 53 }],
    ['the declared database', { to: { world: { ip: '10.20.3.4' } }, port: 5432 }],
    ['a declared name', { to: { world: { ip: '151.101.0.223', name: 'pypi.org' } }, port: 443 }],
    ['one level below a declared wildcard', { to: { world: { ip: '151.101.64.223', name: 'files.pythonhosted.org' } }, port: 443 }],
    ['the declared pods of another namespace', { to: { pod: { namespace: 'observability', labels: { app: 'collector' } } }, port: 4317 }],
    ['any port of a CIDR declared without ports', { to: { world: { ip: '2001:db8::1' } }, port: 22, protocol: 'UDP' }],
  ];
  const no: [string, Flow][] = [
    ['Anthropic directly', { to: ANTHROPIC, port: 443 }],
    ['OpenAI directly', { to: OPENAI, port: 443 }],
    ["the node's ssh", { to: { host: true }, port: 22 }],
    ["the node's kubelet", { to: { host: true }, port: 10250 }],
    ['the proxy port over UDP', { to: { host: true }, port: 15001, protocol: 'UDP' }],
    ['another port of kube-dns', { to: KUBE_DNS, port: 9153 }],
    ['another kube-system pod on 53', { to: { pod: { namespace: 'kube-system', labels: { 'k8s-app': 'metrics-server' } } }, port: 53, protocol: 'UDP' }],
    ['pods labelled k8s-app=kube-dns elsewhere', { to: { pod: { namespace: 'agents', labels: { 'k8s-app': 'kube-dns' } } }, port: 53, protocol: 'UDP' }],
    ['another port of the declared database', { to: { world: { ip: '10.20.3.4' } }, port: 22 }],
    ['an address beside the declared CIDR', { to: { world: { ip: '10.21.0.1' } }, port: 5432 }],
    ['the wildcard apex', { to: { world: { ip: '151.101.0.1', name: 'pythonhosted.org' } }, port: 443 }],
    ['two levels below the wildcard', { to: { world: { ip: '151.101.0.1', name: 'a.b.pythonhosted.org' } }, port: 443 }],
    ['a name ending like a declared one', { to: { world: { ip: '203.0.113.9', name: 'evilpypi.org' } }, port: 443 }],
    ['a subdomain of a declared name', { to: { world: { ip: '203.0.113.9', name: 'upload.pypi.org' } }, port: 443 }],
    ['a declared name on another port', { to: { world: { ip: '151.101.0.223', name: 'pypi.org' } }, port: 80 }],
    ['other pods of the declared namespace', { to: { pod: { namespace: 'observability', labels: { app: 'grafana' } } }, port: 4317 }],
    ['pods of its own namespace (not declared)', { to: { pod: { namespace: 'agents', labels: {} } }, port: 8080 }],
    ['the internet', { to: { world: { ip: '93.184.216.34', name: 'example.com' } }, port: 443 }],
  ];
  for (const [what, flow] of yes) t.true(allowed(p, flow), `allowed: ${what}`);
  for (const [what, flow] of no) t.false(allowed(p, flow), `dropped: ${what}`);
  // Only what the model reads: no deny rules, no default-deny override, no ingress.
  t.deepEqual(Object.keys(p.spec).sort(), ['description', 'egress', 'endpointSelector']);
});

test('podSelector narrows the governed pods; its own namespace is reachable only when declared', (t) => {
  const p = ciliumStrictPolicy({ namespace: 'agents', podSelector: { tier: 'worker' }, allow: [{ namespace: 'agents', podSelector: { app: 'cache' } }] });
  t.deepEqual(p.spec.endpointSelector, { matchLabels: { 'k8s:tier': 'worker' } });
  t.false(allowed(p, { from: { tier: 'worker' }, to: ANTHROPIC, port: 443 }));
  t.true(allowed(p, { from: { tier: 'web' }, to: ANTHROPIC, port: 443 }), 'a pod the policy does not select is not governed by it');
  t.true(allowed(p, { from: { tier: 'worker' }, to: { pod: { namespace: 'agents', labels: { app: 'cache' } } }, port: 6379 }));
  t.false(allowed(p, { from: { tier: 'worker' }, to: { pod: { namespace: 'agents', labels: { app: 'db' } } }, port: 5432 }));
});

test('dns: false leaves DNS out; a DNS object names other DNS pods; proxy.ports replaces the defaults', (t) => {
  const off = ciliumStrictPolicy({ namespace: 'agents', dns: false });
  t.false(allowed(off, { to: KUBE_DNS, port: 53, protocol: 'UDP' }));
  t.is(off.spec.egress.length, 1);
  t.notRegex(off.spec.description, /kube-dns/);

  const p = ciliumStrictPolicy(FULL);
  t.false(allowed(p, { from: { 'app.kubernetes.io/part-of': 'agents', tier: 'worker' }, to: KUBE_DNS, port: 53, protocol: 'UDP' }));
  const dnsPod: Dest = { pod: { namespace: 'openshift-dns', labels: { 'dns.operator.openshift.io/daemonset-dns': 'default' } } };
  t.true(allowed(p, { from: { 'app.kubernetes.io/part-of': 'agents', tier: 'worker' }, to: dnsPod, port: 53, protocol: 'UDP' }));
  t.deepEqual(p.spec.egress[0]!.toPorts, [{ ports: [{ port: '15001', protocol: 'TCP' }] }]);
  t.false(allowed(p, { from: { 'app.kubernetes.io/part-of': 'agents', tier: 'worker' }, to: { host: true }, port: 8080 }));

  const bare = ciliumStrictPolicy({ namespace: 'a', allow: [{ cidr: '192.0.2.7' }, { cidr: '2001:DB8::7' }] });
  t.deepEqual(bare.spec.egress.slice(2).map((r) => r.toCIDRSet), [[{ cidr: '192.0.2.7/32' }], [{ cidr: '2001:db8::7/128' }]], 'a bare address is its own /32 or /128');

  const dup = ciliumStrictPolicy({ namespace: 'a', proxy: { ports: [15001, 15001, 8080] } });
  t.deepEqual(dup.spec.egress[0]!.toPorts![0]!.ports.map((x) => x.port), ['15001', '8080'], 'repeated ports once');
});

test('invalid options are refused with the field named', (t) => {
  const cases: [string, unknown, string, RegExp][] = [
    ['no namespace', {}, 'namespace', /^namespace is required/],
    ['a bad namespace', { namespace: 'Agents' }, 'namespace', /namespace "Agents" is not a Kubernetes namespace name/],
    ['a bad name', { namespace: 'a', name: 'Strict_Policy' }, 'name', /name "Strict_Policy"/],
    ['an unknown option', { namespace: 'a', allows: [] }, 'allows', /allows is not an option/],
    ['a bad label key', { namespace: 'a', podSelector: { 'bad key': 'x' } }, 'podSelector["bad key"]', /not a Kubernetes label key/],
    ['a bad label value', { namespace: 'a', podSelector: { app: 'a/b' } }, 'podSelector["app"]', /not a Kubernetes label value/],
    ['no proxy port', { namespace: 'a', proxy: { ports: [] } }, 'proxy.ports', /at least one port/],
    ['proxy port 0', { namespace: 'a', proxy: { ports: [8080, 0] } }, 'proxy.ports[1]', /proxy\.ports\[1\] is not a port/],
    ['a CIDR that is not one', { namespace: 'a', allow: [{ fqdn: 'x.org' }, { fqdn: 'y.org' }, { cidr: '10.0.0/8' }] }, 'allow[2].cidr', /^allow\[2\]\.cidr is not a CIDR: 10\.0\.0\/8$/],
    ['a bad prefix length', { namespace: 'a', allow: [{ cidr: '10.0.0.0/33' }] }, 'allow[0].cidr', /is not a CIDR: 10\.0\.0\.0\/33/],
    ['host bits', { namespace: 'a', allow: [{ cidr: '10.0.0.1/8' }] }, 'allow[0].cidr', /host bits set: the network is 10\.0\.0\.0\/8/],
    ['IPv6 host bits', { namespace: 'a', allow: [{ cidr: '2001:db8::1/32' }] }, 'allow[0].cidr', /the network is 2001:db8::\/32/],
    ['every address', { namespace: 'a', allow: [{ cidr: '0.0.0.0/0' }] }, 'allow[0].cidr', /every address/],
    ['every IPv6 address', { namespace: 'a', allow: [{ cidr: '::/0' }] }, 'allow[0].cidr', /every address/],
    ["Anthropic's range", { namespace: 'a', allow: [{ cidr: '160.79.0.0/16' }] }, 'allow[0].cidr', /overlaps an AI provider's API range \(anthropic: 160\.79\.104\.0\/23\)/],
    ['inside it', { namespace: 'a', allow: [{ cidr: '160.79.105.7/32' }] }, 'allow[0].cidr', /anthropic/],
    ['an AI host', { namespace: 'a', allow: [{ fqdn: 'API.OpenAI.com.' }] }, 'allow[0].fqdn', /is an AI provider's API host \(api\.openai\.com\)/],
    ['a wildcard over one', { namespace: 'a', allow: [{ fqdn: '*.googleapis.com' }] }, 'allow[0].fqdn', /covers an AI provider's API host/],
    ['an Azure OpenAI resource', { namespace: 'a', allow: [{ fqdn: 'contoso.openai.azure.com' }] }, 'allow[0].fqdn', /\*\.openai\.azure\.com/],
    ['a Bedrock endpoint', { namespace: 'a', allow: [{ fqdn: 'bedrock-runtime.us-east-1.amazonaws.com' }] }, 'allow[0].fqdn', /bedrock-runtime/],
    ['a mid-name wildcard', { namespace: 'a', allow: [{ fqdn: 'api*.example.com' }] }, 'allow[0].fqdn', /only a leading "\*\."/],
    ['a TLD wildcard', { namespace: 'a', allow: [{ fqdn: '*.com' }] }, 'allow[0].fqdn', /top-level domain/],
    ['a name that is not one', { namespace: 'a', allow: [{ fqdn: 'exa mple.com' }] }, 'allow[0].fqdn', /not a DNS name/],
    ['an address as a name', { namespace: 'a', allow: [{ fqdn: '192.0.2.1' }] }, 'allow[0].fqdn', /declare it as a CIDR \(192\.0\.2\.1\/32\)/],
    ['two kinds', { namespace: 'a', allow: [{ cidr: '10.0.0.0/8', fqdn: 'x.org' }] }, 'allow[0]', /exactly one of cidr, fqdn, namespace \(it has cidr and fqdn\)/],
    ['no kind', { namespace: 'a', allow: [{ ports: [443] }] }, 'allow[0]', /exactly one of/],
    ['a stray key', { namespace: 'a', allow: [{ fqdn: 'x.org', port: 443 }] }, 'allow[0].port', /allow\[0\]\.port is not an option/],
    ['a port out of range', { namespace: 'a', allow: [{ fqdn: 'x.org', ports: [443, 65536] }] }, 'allow[0].ports[1]', /allow\[0\]\.ports\[1\] is not a port/],
    ['a port that is a string', { namespace: 'a', allow: [{ fqdn: 'x.org', ports: ['443'] }] }, 'allow[0].ports[0]', /not a port/],
    ['a bad protocol', { namespace: 'a', allow: [{ fqdn: 'x.org', ports: [{ port: 1, protocol: 'ICMP' }] }] }, 'allow[0].ports[0].protocol', /"ICMP" is not one of TCP, UDP, SCTP, ANY/],
    ['no ports', { namespace: 'a', allow: [{ fqdn: 'x.org', ports: [] }] }, 'allow[0].ports', /leave it out/],
    ['41 ports', { namespace: 'a', allow: [{ fqdn: 'x.org', ports: Array.from({ length: 41 }, (_, i) => 1000 + i) }] }, 'allow[0].ports', /at most 40/],
    ['a bad namespace destination', { namespace: 'a', allow: [{ namespace: 'kube_system' }] }, 'allow[0].namespace', /not a Kubernetes namespace name/],
    ['a bad DNS selector', { namespace: 'a', dns: { namespace: 'kube-system', podSelector: {} } }, 'dns.podSelector', /must name the DNS pods/],
  ];
  for (const [what, options, field, message] of cases) {
    const err = t.throws(() => ciliumStrictPolicy(options as CiliumStrictOptions), { instanceOf: ConfigError }, what);
    t.is(err?.field, field, what);
    t.regex(err?.message ?? '', message, what);
    t.true(err?.message.includes(field.replace(/\[".*$/, '')), `${what}: the message names ${field}`);
  }
});

test('the YAML is one document that parses back to the object, port numbers as strings', (t) => {
  for (const options of [{ namespace: 'agents' }, FULL]) {
    const yaml = ciliumStrictPolicyYaml(options);
    const docs = parseAllDocuments(yaml);
    t.is(docs.length, 1);
    t.deepEqual(docs[0]!.errors, []);
    t.deepEqual(parse(yaml), JSON.parse(JSON.stringify(ciliumStrictPolicy(options))));
    t.notRegex(yaml, /[&*]\w+\s*$/m, 'no anchors or aliases');
    t.regex(yaml, /port: "53"/);
  }
});

// ---- The CLI (`altrace bpf cilium-policy`, run as a process). ----

const cli = (...args: string[]) => runCli(['bpf', 'cilium-policy', ...args]);

test('cli: prints the policy as YAML or JSON; exit 0', async (t) => {
  const args = ['--namespace', 'agents', '--allow', '10.20.0.0/16:5432', '--allow', '*.pythonhosted.org:443,53/udp', '--allow', '2001:db8::/32:443', '--allow', '[2001:db8:1::]/48:22', '--allow', '2001:db8:2::1', '--allow', '192.0.2.7:443', '--allow-namespace', 'observability:4317', '--pod-selector', 'tier=worker', '--proxy-port', '15001', '--name', 'strict'];
  const expected = ciliumStrictPolicy({
    namespace: 'agents',
    name: 'strict',
    podSelector: { tier: 'worker' },
    proxy: { ports: [15001] },
    allow: [
      { cidr: '10.20.0.0/16', ports: [5432] },
      { fqdn: '*.pythonhosted.org', ports: [443, { port: 53, protocol: 'UDP' }] },
      { cidr: '2001:db8::/32', ports: [443] },
      { cidr: '2001:db8:1::/48', ports: [22] },
      { cidr: '2001:db8:2::1/128' },
      { cidr: '192.0.2.7/32', ports: [443] },
      { namespace: 'observability', ports: [4317] },
    ],
  });
  const yaml = await cli(...args);
  t.is(yaml.code, 0, yaml.stderr);
  t.is(yaml.stdout.split('\n')[0], `# Generated by: altrace bpf cilium-policy ${args.map((a) => (/[*[\]]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  t.deepEqual(parse(yaml.stdout), JSON.parse(JSON.stringify(expected)));
  const json = await cli(...args, '--json');
  t.is(json.code, 0, json.stderr);
  t.deepEqual(JSON.parse(json.stdout), JSON.parse(JSON.stringify(expected)));
  const noDns = await cli('--namespace', 'agents', '--no-dns', '--json');
  t.is(JSON.parse(noDns.stdout).spec.egress.length, 1);
  const help = await cli('--help');
  t.is(help.code, 0);
  t.regex(help.stdout, /altrace bpf cilium-policy --namespace NS/);
});

test('cli: usage errors exit 2 and name the option at fault', async (t) => {
  const cases: [string[], RegExp][] = [
    [[], /--namespace NS is required/],
    [['--namespace', 'agents', '--allow', '10.0.0/8'], /--allow 10\.0\.0\/8: allow\[0\]\.cidr is not a CIDR: 10\.0\.0\/8/],
    [['--namespace', 'agents', '--allow', 'pypi.org:443', '--allow', 'api.anthropic.com:443'], /--allow api\.anthropic\.com:443: allow\[1\]\.fqdn api\.anthropic\.com is an AI provider's API host/],
    [['--namespace', 'agents', '--allow', 'pypi.org:https'], /--allow pypi\.org:https: "https" is not a port/],
    [['--namespace', 'agents', '--proxy-port', '8080', '--proxy-port', '70000'], /--proxy-port 70000: proxy\.ports\[1\] is not a port/],
    [['--namespace', 'agents', '--pod-selector', 'tier'], /--pod-selector tier: expected KEY=VALUE/],
    [['--namespace', 'Agents'], /--namespace Agents: namespace "Agents" is not a Kubernetes namespace name/],
    [['--namespace', 'agents', '--allow-namespace', 'obs:x'], /--allow-namespace obs:x: "x" is not a port/],
    [['--namespace', 'agents', '--bogus'], /Unknown option '--bogus'/],
    [['--namespace', 'agents', 'extra'], /Unexpected argument 'extra'/],
  ];
  for (const [args, message] of cases) {
    const r = await cli(...args);
    t.is(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    t.regex(r.stderr, message, args.join(' '));
    t.is(r.stdout, '', 'nothing printed on a refusal');
  }
});

/** The command policies/cilium/strict-example.yaml was generated with (its first line says so). */
const EXAMPLE_ARGS = ['--namespace', 'agents', '--allow', '10.20.0.0/16:5432', '--allow', 'pypi.org:443', '--allow', '*.pythonhosted.org:443', '--allow-namespace', 'observability:4317'];

test('policies/cilium/strict-example.yaml is the current output of the command on its first line', async (t) => {
  const file = readFileSync(join(ROOT, 'policies/cilium/strict-example.yaml'), 'utf8');
  const r = await cli(...EXAMPLE_ARGS);
  t.is(r.code, 0, r.stderr);
  t.is(file, r.stdout, 'regenerate it: altrace bpf cilium-policy ... > policies/cilium/strict-example.yaml');
  t.regex(file.split('\n')[0]!, /^# Generated by: altrace bpf cilium-policy --namespace agents /);
  t.notThrows(() => validate(parse(file)));
});
