// The Cilium objects the control plane emits for node.enforcement: cilium (docs/kubernetes.md,
// "Cilium"): per governed namespace a CiliumNetworkPolicy that denies its pods direct egress to
// AI destinations, and where the proxy runs as a pod a CiliumLocalRedirectPolicy that sends a
// Service's traffic to the proxy on the same node. Pure: the controller diffs these against
// what the cluster holds.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { EgressEntry, McpServerPods } from '../../../proxy/src/index.js';
import { ciliumStrictPolicy, type AllowedDestination } from '../node/cilium-strict.js';

export const CILIUM_GROUP = 'cilium.io';
export const CILIUM_VERSION = 'v2';
export const NETWORK_POLICIES = 'ciliumnetworkpolicies';
export const LOCAL_REDIRECTS = 'ciliumlocalredirectpolicies';
export const POLICY_NAME = 'altrace-ai-egress';
export const REDIRECT_NAME = 'altrace-proxy-redirect';
export const MANAGED_BY = { key: 'app.kubernetes.io/managed-by', value: 'altrace' } as const;

export interface OwnerRef {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
}

export interface LocalRedirect {
  /** The Service agents' base URL names, and the namespace the policy lives in (a LocalRedirectPolicy is namespaced). */
  namespace: string;
  service: string;
  /** The node proxy pods' labels, and the port they serve on. */
  backendLabels: Record<string, string>;
  port: number;
}

export interface EmitOptions {
  /** The AI destination nets (addresses or CIDRs). */
  nets: readonly string[];
  /** The node proxy's ports on the node's address (allowed: where governed agents must go). */
  proxyPorts: readonly number[];
  /** The cluster DNS's endpoint labels, in Cilium's form (k8s: prefixed). */
  dnsLabels: Readonly<Record<string, string>>;
  owner: OwnerRef | null;
}

/** A net as Cilium's toCIDRSet takes it: always with its length. */
export function cidrOf(net: string): string | null {
  const [address, length] = net.split('/') as [string, string | undefined];
  const family = isIP(address);
  if (family === 0) return null;
  // A v4-mapped IPv6 address is the IPv4 one to Cilium: its v4 form is in the set already.
  if (family === 6 && /^::ffff:/i.test(address) && address.includes('.')) return null;
  return `${address}/${length ?? (family === 4 ? 32 : 128)}`;
}

function metadata(name: string, namespace: string, owner: OwnerRef | null) {
  return {
    name,
    namespace,
    labels: { [MANAGED_BY.key]: MANAGED_BY.value },
    annotations: { 'altrace.io/emitted': 'Kept in sync by the Altrace control plane: edits are reverted, a deletion is restored. Remove the altrace.io/enforce label from the namespace instead.' },
    ...(owner ? { ownerReferences: [{ ...owner, controller: true, blockOwnerDeletion: false }] } : {}),
  };
}

/** The cluster DNS, with a DNS rule: Cilium's DNS proxy sees the names (FQDN visibility, and what toFQDNs rules allow). */
function dnsRule(dnsLabels: Readonly<Record<string, string>>) {
  return { toEndpoints: [{ matchLabels: { ...dnsLabels } }], toPorts: [{ ports: [{ port: '53', protocol: 'ANY' }], rules: { dns: [{ matchPattern: '*' }] } }] };
}

/** Every port of every AI address, denied (Cilium's deny rules take no FQDNs: names are denied by their addresses). */
function denyNets(nets: readonly string[]) {
  const cidrs = [...new Set(nets.map(cidrOf).filter((c): c is string => c !== null))].sort();
  return cidrs.length ? { egressDeny: [{ toCIDRSet: cidrs.map((cidr) => ({ cidr })) }] } : {};
}

/**
 * The namespace's policy. It switches no default deny on (`enableDefaultDeny: false`), so the
 * pods' other traffic is untouched; its allow rules give Cilium's DNS proxy the cluster DNS to
 * see (FQDN visibility for the providers' names) and name the node proxy's ports; its deny rule
 * refuses every port of every AI address to pods that are not labelled altrace.io/enforce=false
 * (in a namespace that is not opted in: to the pods labelled altrace.io/enforce=true).
 * Cilium's deny rules take no FQDNs, so the names are denied by the addresses they resolve to.
 */
export function namespacePolicy(namespace: string, o: EmitOptions, scope: 'namespace' | 'labelled-pods' = 'namespace') {
  return {
    apiVersion: `${CILIUM_GROUP}/${CILIUM_VERSION}`,
    kind: 'CiliumNetworkPolicy',
    metadata: metadata(POLICY_NAME, namespace, o.owner),
    spec: {
      description: 'Altrace: AI providers only through the node proxy',
      // An opted-in namespace: its pods but those labelled out. Any other namespace: only its pods labelled in.
      endpointSelector:
        scope === 'namespace' ? { matchExpressions: [{ key: 'altrace.io/enforce', operator: 'NotIn', values: ['false'] }] } : { matchLabels: { 'altrace.io/enforce': 'true' } },
      enableDefaultDeny: { egress: false, ingress: false },
      egress: [
        dnsRule(o.dnsLabels),
        { toEntities: ['host'], toPorts: [{ ports: o.proxyPorts.map((p) => ({ port: String(p), protocol: 'TCP' })) }] },
      ],
      ...denyNets(o.nets),
    },
  };
}

/** The Service agents point at, served by the proxy pod on the caller's own node. */
export function localRedirectPolicy(r: LocalRedirect, owner: OwnerRef | null) {
  return {
    apiVersion: `${CILIUM_GROUP}/${CILIUM_VERSION}`,
    kind: 'CiliumLocalRedirectPolicy',
    metadata: metadata(REDIRECT_NAME, r.namespace, owner),
    spec: {
      description: 'Altrace: the proxy Service answered by the proxy on the same node',
      redirectFrontend: { serviceMatcher: { serviceName: r.service, namespace: r.namespace } },
      redirectBackend: { localEndpointSelector: { matchLabels: { ...r.backendLabels } }, toPorts: [{ port: String(r.port), protocol: 'TCP' }] },
    },
  };
}

/** The name of an MCP server's policy: a Kubernetes object name (bounded), told apart from another server's whose name maps to the same one. */
export function mcpPolicyName(server: string): string {
  const plain = server.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  const exact = plain === server && plain.length <= 200;
  return `${MCP_POLICY_PREFIX}${plain.slice(0, 200).replace(/-+$/, '') || 'server'}${exact ? '' : `-${createHash('sha256').update(server).digest('hex').slice(0, 8)}`}`;
}

export const MCP_POLICY_PREFIX = 'altrace-mcp-';

/**
 * An MCP server's pods held to its registry entry's egress (`mcp.servers.<name>.pods` and `.egress`):
 * strict mode's policy (agent/src/node/cilium-strict.ts) for the selected pods — the node proxy,
 * the cluster DNS (the same peer as the namespace policies') and the listed destinations, each port
 * for any protocol (as the kernel confines a wrapped server: connect and send alike), every port
 * where none is listed — and, as the namespace policies do, every AI address denied: a CIDR listed
 * for the server that holds a model endpoint does not open a way around the proxy. Throws
 * ConfigError naming the field (`allow[1].fqdn …` is the egress entry at that index).
 */
export function mcpServerPolicy(server: string, pods: McpServerPods, egress: readonly EgressEntry[], o: EmitOptions) {
  const allow: AllowedDestination[] = egress.map((e) => {
    const ports = e.ports.length ? { ports: e.ports.map((port) => ({ port, protocol: 'ANY' as const })) } : {};
    return e.kind === 'net' ? { cidr: e.net, ...ports } : { fqdn: e.host, ...ports };
  });
  const policy = ciliumStrictPolicy({ namespace: pods.namespace, name: mcpPolicyName(server), podSelector: { ...pods.labels }, proxy: { ports: [...o.proxyPorts] }, dns: false, allow });
  const [proxy, ...destinations] = policy.spec.egress;
  return {
    ...policy,
    metadata: metadata(policy.metadata.name, pods.namespace, o.owner),
    spec: {
      description: `Altrace: MCP server ${server} reaches only its registry entry's egress, the cluster DNS and the node proxy`,
      endpointSelector: policy.spec.endpointSelector,
      egress: [proxy!, dnsRule(o.dnsLabels), ...destinations],
      ...denyNets(o.nets),
    },
  };
}
