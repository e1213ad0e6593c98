// Strict mode as a CiliumNetworkPolicy: for clusters whose CNI is Cilium, the same promise as our
// own BPF enforcement — a governed namespace's pods reach the node proxy, kube-dns and their
// declared destinations, and nothing else — enforced by Cilium. Pure: options in, a plain object
// out (`altrace bpf cilium-policy` prints it; policies/cilium/README.md explains it).
import { isIPv4, isIPv6 } from 'node:net';
import { stringify } from 'yaml';
import { addressBytes, formatAddress } from '../bpf/address.js';
import { ConfigError } from '../errors.js';
import { PROVIDER_HOSTS, PUBLISHED_RANGES } from './providers.js';

export type PortProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ANY';

/** A destination port: a number is TCP. */
export type PortSpec = number | { port: number; protocol?: PortProtocol };

/** Kubernetes labels, as a selector's matchLabels. */
export type Labels = Record<string, string>;

/** A declared destination; without `ports`, every port and protocol of it. */
export type AllowedDestination =
  /** An address block outside the cluster (Cilium toCIDRSet); a bare address is its /32 or /128. */
  | { cidr: string; ports?: PortSpec[] }
  /** A DNS name (toFQDNs matchName), or `*.suffix` for one level of subdomain (matchPattern). */
  | { fqdn: string; ports?: PortSpec[] }
  /** Pods of a namespace of this cluster (toEndpoints), all of them or those `podSelector` picks. */
  | { namespace: string; podSelector?: Labels; ports?: PortSpec[] };

export interface CiliumStrictOptions {
  /** The governed namespace (the policy lives there and selects its pods). */
  namespace: string;
  /** The policy's name; default `altrace-strict`. */
  name?: string;
  /** The governed pods' labels; default every pod of the namespace. */
  podSelector?: Labels;
  /** The node proxy's TCP ports on the node's own address; default 8080 (explicit) and 15001 (transparent). */
  proxy?: { ports?: number[] };
  /**
   * DNS through kube-dns (default true): `true` is kube-system's `k8s-app: kube-dns` pods; an
   * object names other DNS pods (e.g. OpenShift's). `false` leaves DNS out: pods then resolve only
   * if another policy allows it, and FQDN destinations only work if that policy's DNS rule sends
   * the lookups through Cilium's DNS proxy.
   */
  dns?: boolean | { namespace: string; podSelector: Labels };
  allow?: AllowedDestination[];
}

// The emitted object: the part of cilium.io/v2 CiliumNetworkPolicy this writes.
export interface CiliumPort {
  port: string;
  protocol: PortProtocol;
}
export interface CiliumPortRule {
  ports: CiliumPort[];
  rules?: { dns: { matchPattern: string }[] };
}
export interface CiliumSelector {
  matchLabels?: Labels;
}
export interface CiliumEgressRule {
  toEntities?: 'host'[];
  toEndpoints?: CiliumSelector[];
  toCIDRSet?: { cidr: string }[];
  toFQDNs?: ({ matchName: string } | { matchPattern: string })[];
  toPorts?: CiliumPortRule[];
}
export interface CiliumNetworkPolicy {
  apiVersion: 'cilium.io/v2';
  kind: 'CiliumNetworkPolicy';
  metadata: { name: string; namespace: string; labels: Labels };
  spec: { description: string; endpointSelector: CiliumSelector; egress: CiliumEgressRule[] };
}

export const DEFAULT_POLICY_NAME = 'altrace-strict';
export const DEFAULT_PROXY_PORTS: readonly number[] = [8080, 15001];
/** Cilium's label for an endpoint's namespace (CiliumNetworkPolicy selectors across namespaces). */
export const NAMESPACE_LABEL = 'k8s:io.kubernetes.pod.namespace';
const KUBE_DNS = { namespace: 'kube-system', podSelector: { 'k8s-app': 'kube-dns' } };
/** The CRD's bound on one PortRule's ports (maxItems). */
const MAX_PORTS = 40;

/**
 * AI providers' API hosts (as Cilium FQDN patterns, `*` one DNS label): a declared FQDN that names
 * one would let agents reach it around the proxy. A guard against the obvious mistake, not the
 * destination set (agent/src/node/providers.ts has that, with the configured upstreams).
 */
export const AI_PROVIDER_HOSTS: readonly string[] = PROVIDER_HOSTS.map((p) => p.host);

/**
 * AI providers' published inbound ranges: a declared CIDR overlapping one is refused for the same
 * reason (the other providers publish none for their APIs: policies/cilium/README.md).
 */
export const AI_PROVIDER_CIDRS: readonly { provider: string; cidr: string }[] = PUBLISHED_RANGES.map((p) => ({ provider: p.provider, cidr: p.host }));

/**
 * The CiliumNetworkPolicy (cilium.io/v2) of strict mode for one namespace.
 *
 * What it allows — the egress of the selected pods (`podSelector`, default every pod of
 * `namespace`), and only that:
 *   1. the node proxy: TCP `proxy.ports` (default 8080, 15001) to Cilium's `host` entity, the
 *      pod's own node (the DaemonSet runs on the host network; `remote-node` is not allowed: the
 *      proxy a pod uses is its own node's). Anything else listening on those ports of the node
 *      is reachable too;
 *   2. DNS (unless `dns: false`): UDP and TCP 53 to kube-dns (kube-system, `k8s-app: kube-dns`),
 *      with an L7 DNS rule matching every name (`matchPattern: '*'`): lookups go through
 *      Cilium's DNS proxy, which learns the addresses that FQDN destinations resolve to;
 *   3. each declared destination (`allow`): a CIDR (toCIDRSet: addresses outside the cluster), an
 *      FQDN or `*.suffix` (toFQDNs: the addresses the pods' own lookups of it returned), or pods
 *      of a namespace (toEndpoints), on its `ports` (TCP unless told) or on every port.
 *
 * Everything else is dropped: a pod that a policy with egress rules selects is default-deny for
 * egress in Cilium, so whatever no rule allows — other pods of its own namespace, the Kubernetes
 * API, the internet — is refused. AI providers are NOT in the policy, and a declared destination
 * that names one (`AI_PROVIDER_HOSTS`, `AI_PROVIDER_CIDRS`) is refused: AI traffic reaches a
 * provider only through the node proxy, whose own egress is the DaemonSet's (host network), not
 * the pod's. Ingress is not touched (the policy has no ingress rules, so it puts no pod in
 * default-deny for ingress).
 *
 * Cilium policies add up: another policy selecting these pods can allow more. Strict mode holds
 * only while no one else may write CiliumNetworkPolicies in the namespace (RBAC). An FQDN or CIDR
 * served by a shared front end (googleapis.com, a CDN, a cloud's load balancers) can carry other
 * hosts' traffic, AI providers' included: declare the narrowest destinations, and keep the node's
 * own BPF enforcement on beside it.
 *
 * Invalid options throw ConfigError naming the field (`allow[2].cidr is not a CIDR: 10.0.0/8`).
 */
export function ciliumStrictPolicy(options: CiliumStrictOptions): CiliumNetworkPolicy {
  if (options === null || typeof options !== 'object') throw new ConfigError('the options must be an object', '');
  knownKeys(options, ['namespace', 'name', 'podSelector', 'proxy', 'dns', 'allow'], '');
  const namespace = namespaceName(options.namespace, 'namespace');
  const name = options.name ?? DEFAULT_POLICY_NAME;
  if (typeof name !== 'string' || name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    throw new ConfigError(`name ${JSON.stringify(name)} is not a Kubernetes object name (lowercase a-z, 0-9, '-' and '.', at most 253 characters)`, 'name');
  }
  const podSelector = labels(options.podSelector ?? {}, 'podSelector');

  if (options.proxy !== undefined && (options.proxy === null || typeof options.proxy !== 'object')) throw new ConfigError('proxy must be an object: { ports }', 'proxy');
  knownKeys(options.proxy ?? {}, ['ports'], 'proxy.');
  const proxyPorts = options.proxy?.ports ?? DEFAULT_PROXY_PORTS;
  if (!Array.isArray(proxyPorts) || proxyPorts.length === 0) throw new ConfigError('proxy.ports must list at least one port: without one, no pod reaches the node proxy', 'proxy.ports');
  const proxy = ports(proxyPorts, 'proxy.ports', true);

  const egress: CiliumEgressRule[] = [{ toEntities: ['host'], toPorts: [{ ports: proxy }] }];
  const dns = dnsTarget(options.dns);
  if (dns) {
    egress.push({
      toEndpoints: [{ matchLabels: { [NAMESPACE_LABEL]: dns.namespace, ...prefixed(dns.podSelector) } }],
      toPorts: [{ ports: [{ port: '53', protocol: 'UDP' }, { port: '53', protocol: 'TCP' }], rules: { dns: [{ matchPattern: '*' }] } }],
    });
  }
  const allow = options.allow ?? [];
  if (!Array.isArray(allow)) throw new ConfigError('allow must be a list of destinations', 'allow');
  allow.forEach((entry, i) => egress.push(allowRule(entry, `allow[${i}]`)));

  const declared = allow.length === 1 ? '1 declared destination' : `${allow.length} declared destinations`;
  return {
    apiVersion: 'cilium.io/v2',
    kind: 'CiliumNetworkPolicy',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/managed-by': 'altrace' } },
    spec: {
      description:
        `Altrace strict mode: egress only to the node proxy (host TCP ${proxy.map((p) => p.port).join(', ')})` +
        `${dns ? ', kube-dns' : ''} and ${declared}; everything else, AI providers included, is dropped.`,
      endpointSelector: Object.keys(podSelector).length > 0 ? { matchLabels: prefixed(podSelector) } : {},
      egress,
    },
  };
}

/** The policy as YAML (one document), for `kubectl apply -f -`. */
export function ciliumStrictPolicyYaml(options: CiliumStrictOptions): string {
  return stringify(ciliumStrictPolicy(options), { lineWidth: 0, aliasDuplicateObjects: false });
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** One label of a DNS name as Cilium's FQDN selectors take it (underscores included). */
const FQDN_LABEL = /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?$/;

function knownKeys(value: object, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw new ConfigError(`${prefix}${key} is not an option (${allowed.join(', ')})`, `${prefix}${key}`);
  }
}

function namespaceName(value: unknown, field: string): string {
  if (value === undefined || value === null || value === '') throw new ConfigError(`${field} is required`, field);
  if (typeof value !== 'string' || value.length > 63 || !DNS_LABEL.test(value)) {
    throw new ConfigError(`${field} ${JSON.stringify(value)} is not a Kubernetes namespace name (lowercase a-z, 0-9 and '-', at most 63 characters, alphanumeric at both ends)`, field);
  }
  return value;
}

/** Kubernetes label syntax: `[prefix/]name` keys (prefix a DNS subdomain), values of at most 63. */
function labels(value: unknown, field: string): Labels {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`${field} must be an object of label: value`, field);
  const out: Labels = {};
  for (const [key, v] of Object.entries(value)) {
    const at = `${field}[${JSON.stringify(key)}]`;
    const slash = key.lastIndexOf('/');
    const prefix = slash >= 0 ? key.slice(0, slash) : null;
    const label = key.slice(slash + 1);
    if ((prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) || label.length > 63 || !LABEL_NAME.test(label)) {
      throw new ConfigError(`${at}: ${JSON.stringify(key)} is not a Kubernetes label key ([prefix/]name: name of at most 63 of A-Z, a-z, 0-9, '-', '_', '.')`, at);
    }
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE.test(v)) {
      throw new ConfigError(`${at} ${JSON.stringify(v)} is not a Kubernetes label value (at most 63 of A-Z, a-z, 0-9, '-', '_', '.', alphanumeric at both ends)`, at);
    }
    out[key] = v;
  }
  return out;
}

/** Selector keys with Cilium's `k8s:` source: they match the pod's Kubernetes labels only. */
function prefixed(selector: Labels): Labels {
  return Object.fromEntries(Object.entries(selector).map(([k, v]) => [`k8s:${k}`, v]));
}

function dnsTarget(dns: CiliumStrictOptions['dns']): { namespace: string; podSelector: Labels } | null {
  if (dns === undefined || dns === true) return KUBE_DNS;
  if (dns === false) return null;
  if (dns === null || typeof dns !== 'object') throw new ConfigError('dns must be true, false or { namespace, podSelector }', 'dns');
  knownKeys(dns, ['namespace', 'podSelector'], 'dns.');
  const podSelector = labels(dns.podSelector ?? {}, 'dns.podSelector');
  if (Object.keys(podSelector).length === 0) throw new ConfigError("dns.podSelector must name the DNS pods' labels (an empty one is every pod of the namespace)", 'dns.podSelector');
  return { namespace: namespaceName(dns.namespace, 'dns.namespace'), podSelector };
}

const PROTOCOLS: readonly PortProtocol[] = ['TCP', 'UDP', 'SCTP', 'ANY'];

/** Cilium PortProtocols, deduplicated; `tcpOnly` for the proxy's (a number each). */
function ports(list: unknown, field: string, tcpOnly = false): CiliumPort[] {
  if (!Array.isArray(list)) throw new ConfigError(`${field} must be a list of ports`, field);
  const out: CiliumPort[] = [];
  list.forEach((spec: unknown, i) => {
    const at = `${field}[${i}]`;
    const { port, protocol } = typeof spec === 'object' && spec !== null && !tcpOnly ? (spec as { port: unknown; protocol?: unknown }) : { port: spec, protocol: undefined };
    if (typeof spec === 'object' && spec !== null && !tcpOnly) knownKeys(spec, ['port', 'protocol'], `${at}.`);
    // Port 0 is "every port" to Cilium: a list of ports means those ports.
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ConfigError(`${at} is not a port (an integer 1-65535): ${JSON.stringify(port) ?? String(port)}`, at);
    }
    if (protocol !== undefined && !PROTOCOLS.includes(protocol as PortProtocol)) {
      throw new ConfigError(`${at}.protocol ${JSON.stringify(protocol)} is not one of ${PROTOCOLS.join(', ')}`, `${at}.protocol`);
    }
    const p: CiliumPort = { port: String(port), protocol: (protocol as PortProtocol | undefined) ?? 'TCP' };
    if (!out.some((o) => o.port === p.port && o.protocol === p.protocol)) out.push(p);
  });
  if (out.length > MAX_PORTS) throw new ConfigError(`${field} has ${out.length} ports: Cilium takes at most ${MAX_PORTS} in one rule`, field);
  return out;
}

function allowRule(entry: unknown, at: string): CiliumEgressRule {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw new ConfigError(`${at} must be an object: { cidr | fqdn | namespace, ports? }`, at);
  const e = entry as { cidr?: unknown; fqdn?: unknown; namespace?: unknown; podSelector?: unknown; ports?: unknown };
  const kinds = (['cidr', 'fqdn', 'namespace'] as const).filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) throw new ConfigError(`${at} needs exactly one of cidr, fqdn, namespace${kinds.length > 1 ? ` (it has ${kinds.join(' and ')})` : ''}`, at);
  const kind = kinds[0]!;
  knownKeys(e, kind === 'namespace' ? ['namespace', 'podSelector', 'ports'] : [kind, 'ports'], `${at}.`);
  const toPorts = e.ports === undefined ? undefined : ports(e.ports, `${at}.ports`);
  if (toPorts !== undefined && toPorts.length === 0) throw new ConfigError(`${at}.ports is empty: leave it out to allow every port`, `${at}.ports`);
  const withPorts = (rule: CiliumEgressRule): CiliumEgressRule => (toPorts ? { ...rule, toPorts: [{ ports: toPorts }] } : rule);
  if (kind === 'cidr') return withPorts({ toCIDRSet: [{ cidr: cidr(e.cidr, `${at}.cidr`) }] });
  if (kind === 'fqdn') return withPorts({ toFQDNs: [fqdn(e.fqdn, `${at}.fqdn`)] });
  const namespace = namespaceName(e.namespace, `${at}.namespace`);
  const podSelector = labels(e.podSelector ?? {}, `${at}.podSelector`);
  return withPorts({ toEndpoints: [{ matchLabels: { [NAMESPACE_LABEL]: namespace, ...prefixed(podSelector) } }] });
}

interface Net {
  bytes: Buffer;
  /** Prefix length in bits of the 16-byte form (IPv4 is v4-mapped: 96 + its length). */
  bits: number;
}

function parseNet(text: string): Net | null {
  const m = /^([^/]+)\/(0|[1-9]\d{0,2})$/.exec(text);
  if (!m) return null;
  const [, address, length] = m as unknown as [string, string, string];
  const len = Number(length);
  if (isIPv4(address) && len <= 32) return { bytes: addressBytes(address), bits: 96 + len };
  if (isIPv6(address) && !address.includes('%') && len <= 128) return { bytes: addressBytes(address), bits: len };
  return null;
}

function masked(net: Net, bits: number): Buffer {
  const out = Buffer.from(net.bytes);
  for (let bit = bits; bit < 128; bit++) out[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return out;
}

function overlaps(a: Net, b: Net): boolean {
  const bits = Math.min(a.bits, b.bits);
  return masked(a, bits).equals(masked(b, bits));
}

function cidr(input: unknown, at: string): string {
  if (typeof input !== 'string') throw new ConfigError(`${at} is not a CIDR: ${JSON.stringify(input)}`, at);
  // A bare address is its own /32 or /128.
  const value = isIPv4(input) ? `${input}/32` : isIPv6(input) && !input.includes('%') ? `${input}/128` : input;
  const net = parseNet(value);
  if (!net) throw new ConfigError(`${at} is not a CIDR: ${value}`, at);
  const v4 = isIPv4(value.split('/')[0]!);
  if (net.bits === (v4 ? 96 : 0)) throw new ConfigError(`${at} ${value} is every address, AI providers' included: strict mode allows declared destinations only`, at);
  const network = masked(net, net.bits);
  if (!network.equals(net.bytes)) {
    throw new ConfigError(`${at} ${value} has host bits set: the network is ${formatAddress(network)}/${v4 ? net.bits - 96 : net.bits}`, at);
  }
  for (const p of AI_PROVIDER_CIDRS) {
    if (overlaps(net, parseNet(p.cidr)!)) throw new ConfigError(`${at} ${value} overlaps an AI provider's API range (${p.provider}: ${p.cidr}): AI traffic goes through the node proxy, not around it`, at);
  }
  return value.toLowerCase();
}

/** Whether a Cilium FQDN pattern (`*` is one DNS label or part of one) matches a name or another pattern's instances. */
function fqdnMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.\\^$+?()[\]{}|-]/g, '\\$&')).join('[-a-z0-9_*]*')}$`);
  return re.test(name);
}

function fqdn(value: unknown, at: string): { matchName: string } | { matchPattern: string } {
  if (typeof value !== 'string' || value === '') throw new ConfigError(`${at} is not a DNS name: ${JSON.stringify(value)}`, at);
  const name = value.toLowerCase().replace(/\.$/, '');
  if (isIPv4(name) || isIPv6(name)) throw new ConfigError(`${at} ${value} is an address: declare it as a CIDR (${name}/${isIPv4(name) ? 32 : 128})`, at);
  const wildcard = name.startsWith('*.');
  const base = wildcard ? name.slice(2) : name;
  const parts = base.split('.');
  if (base.includes('*')) throw new ConfigError(`${at} ${value}: only a leading "*." wildcard is supported (one level of subdomain)`, at);
  if (name.length > 253 || !parts.every((l) => l.length <= 63 && FQDN_LABEL.test(l))) throw new ConfigError(`${at} is not a DNS name: ${value}`, at);
  if (wildcard && parts.length < 2) throw new ConfigError(`${at} ${value} covers a whole top-level domain: name a domain below it`, at);
  for (const host of AI_PROVIDER_HOSTS) {
    if (fqdnMatches(host, name) || (wildcard && fqdnMatches(name, host))) {
      throw new ConfigError(`${at} ${value} ${wildcard ? 'covers' : 'is'} an AI provider's API host (${host}): AI traffic goes through the node proxy, not around it`, at);
    }
  }
  return wildcard ? { matchPattern: name } : { matchName: name };
}
