// The MCP server registry of the policy (`mcp.servers`): per server, the tools approved and the
// digests they were approved with, and what to do with a tool that is new or has changed shape.

import type { FlowLabel } from '../mcp-trust/flows.js';
import type { PackageRef, RegistryType } from '../mcp-trust/package-identity.js';
import { parseEgress, type EgressEntry } from './mcp-egress.js';

export interface PinnedTool {
  model: string;
  structure: string;
  readOnly: boolean | null;
  destructive: boolean | null;
  /** Toxic-flow labels the operator gave it; null: inferred from its name. */
  labels: readonly FlowLabel[] | null;
}

export type ServerTrust = 'trusted' | 'reviewed' | 'untrusted' | 'blocked';

/** What the registry says the server is (server.json): the packages that may be launched as it, the URLs it may be reached at. */
/** A package server.json lists, with where its registry is when not the public one. */
export interface ListedPackage extends PackageRef {
  registryBaseUrl?: string;
}

export interface ServerIdentity {
  name: string;
  version: string;
  /** Null: server.json lists no packages (nothing to hold a launch against). */
  packages: readonly ListedPackage[] | null;
  remotes: readonly string[] | null;
  repository: string | null;
}

export interface McpServerPins {
  tools: ReadonlyMap<string, PinnedTool>;
  unapproved: 'block' | 'flag';
  structureChange: 'block' | 'flag';
  trust: ServerTrust;
  identity: ServerIdentity | null;
  /** required: a relay opens only for a launch whose npm provenance verifies (stage mcp-registry). */
  provenance: 'required' | 'off';
  /** Where a launched server may connect (altrace mcp wrap, confined by the node agent); null: not declared. */
  egress: readonly EgressEntry[] | null;
  /** The pods the server runs as in the cluster, held to `egress` by a CiliumNetworkPolicy the control plane keeps; null: none. */
  pods: McpServerPods | null;
}

export interface McpServerPods {
  namespace: string;
  labels: Readonly<Record<string, string>>;
}

interface ServerJson {
  name: string;
  version: string;
  repository?: { url: string };
  packages?: { registryType: string; identifier: string; version: string; registryBaseUrl?: string }[];
  remotes?: { type: string; url: string }[];
}

export interface McpRegistryDocument {
  servers?: Record<string, { tools?: Record<string, { model: string; structure: string; read_only?: boolean; destructive?: boolean; labels?: FlowLabel[] }>; unapproved?: 'block' | 'flag'; structure_change?: 'block' | 'flag'; trust?: ServerTrust; server?: ServerJson; provenance?: 'required' | 'off'; egress?: string[]; pods?: { namespace: string; labels: Record<string, string> } }>;
  toxic_flows?: 'block' | 'flag';
  flow_window_s?: number;
  descriptions?: 'block' | 'flag';
  /** Ids of `content.classifiers` whose score on a tool's definition poisons that tool, as the rules' findings do. */
  description_classifiers?: string[];
}

/** Server name → its pins; a server the registry does not list is not checked. */
export type McpRegistry = ReadonlyMap<string, McpServerPins>;

export interface ToxicFlowPolicy {
  action: 'block' | 'flag';
  windowMs: number;
}

/** Off unless the policy sets `mcp.toxic_flows`. */
export function compileToxicFlows(doc: McpRegistryDocument | undefined): ToxicFlowPolicy | null {
  return doc?.toxic_flows ? { action: doc.toxic_flows, windowMs: (doc.flow_window_s ?? 3600) * 1000 } : null;
}

export function compileMcpRegistry(doc: McpRegistryDocument | undefined): McpRegistry {
  return new Map(
    Object.entries(doc?.servers ?? {}).map(([name, s]) => [
      name,
      {
        tools: new Map(Object.entries(s.tools ?? {}).map(([tool, p]) => [tool, { model: p.model, structure: p.structure, readOnly: p.read_only ?? null, destructive: p.destructive ?? null, labels: p.labels ?? null }])),
        unapproved: s.unapproved ?? 'block',
        structureChange: s.structure_change ?? 'block',
        trust: s.trust ?? 'reviewed',
        identity: s.server ? identityOf(s.server) : null,
        provenance: s.provenance ?? 'off',
        egress: egressOf(s.egress),
        pods: s.pods ? { namespace: s.pods.namespace, labels: { ...s.pods.labels } } : null,
      },
    ]),
  );
}

/** Parsed entries; registryProblem has refused a policy whose entries do not parse. */
function egressOf(texts: string[] | undefined): readonly EgressEntry[] | null {
  if (texts === undefined) return null;
  const parsed = parseEgress(texts);
  if (!('entries' in parsed)) throw new Error(`mcp egress entry ${parsed.index}: ${parsed.message}`);
  return parsed.entries;
}

const KNOWN_REGISTRIES: ReadonlySet<string> = new Set(['npm', 'pypi', 'oci']);

/** A URL as two spellings of it compare: no trailing slash, host lower-cased (new URL does). */
export function sameUrl(a: string): string {
  try {
    return new URL(a).href.replace(/\/+$/, '');
  } catch {
    return a.replace(/\/+$/, '');
  }
}

function identityOf(s: ServerJson): ServerIdentity {
  // Registries Altrace cannot name a launch for (nuget, mcpb) match no launch: listed alone, they refuse every relay.
  const packages = s.packages?.filter((p) => KNOWN_REGISTRIES.has(p.registryType)).map((p) => ({ registryType: p.registryType as RegistryType, identifier: p.registryType === 'pypi' ? p.identifier.toLowerCase() : p.identifier, version: p.version, ...(p.registryBaseUrl ? { registryBaseUrl: p.registryBaseUrl } : {}) })) ?? null;
  return { name: s.name, version: s.version, packages: s.packages ? packages : null, remotes: s.remotes?.map((r) => sameUrl(r.url)) ?? null, repository: s.repository?.url ?? null };
}

/**
 * What the schema cannot say about `mcp.servers.*.server`: a package version must be one exact
 * version (server.json refuses ranges and `latest`). The first problem, with its field, or null.
 */
export function registryProblem(doc: McpRegistryDocument | undefined): { field: string; message: string } | null {
  for (const [name, s] of Object.entries(doc?.servers ?? {})) {
    if (s.egress) {
      const parsed = parseEgress(s.egress);
      if (!('entries' in parsed)) return { field: `mcp.servers.${name}.egress.${parsed.index}`, message: parsed.message };
    }
    // Pods without egress would be selected by a policy with nothing to hold them to.
    if (s.pods && !s.egress) return { field: `mcp.servers.${name}.pods`, message: 'pods needs egress: the destinations its pods may reach ([] for none)' };
    if (s.provenance === 'required') {
      // Provenance is held to a repository and verified for npm packages: without them, required could never pass.
      if (!s.server?.repository?.url) return { field: `mcp.servers.${name}.provenance`, message: 'required needs server.repository.url: the repository the provenance must name' };
      if (!s.server.packages?.some((p) => p.registryType === 'npm')) return { field: `mcp.servers.${name}.provenance`, message: 'required needs an npm package in server.packages: npm provenance is what is verified' };
    }
    for (const [i, p] of (s.server?.packages ?? []).entries()) {
      if (p.version === 'latest' || /(?:^|\.)[xX*](?:$|\.)/.test(p.version)) return { field: `mcp.servers.${name}.server.packages.${i}.version`, message: `"${p.version}" is not one exact version (server.json refuses ranges and latest)` };
    }
  }
  return null;
}
