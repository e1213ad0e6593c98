// What `altrace mcp scan` writes besides its report: the client configuration with each stdio
// server started through `altrace mcp wrap` (--emit-config), and the policy entries that would
// govern what it found (--emit-policy): the destinations, and with --connect the tools pinned as
// they are listed now.
import { stringify as stringifyYaml } from 'yaml';
import { toolDigests, toolHints } from '../../../proxy/src/index.js';
import { readConfigDocument, serverObjects, unwrap, type McpServerEntry } from './client-configs.js';
import { launchIdentity } from './launch.js';
import type { LiveList } from './live-tools.js';

/** A server name the agent config accepts (mcp.servers[].name): lower case, [a-z0-9._-], at most 64. */
export function governedName(name: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 64);
  return slug === '' ? 'server' : slug;
}

/** The policy entry pinning each tool as listed: the two digests and the hints (altrace mcp pin). */
export function pinTools(list: readonly Record<string, unknown>[]): Record<string, Record<string, unknown>> {
  const tools: Record<string, Record<string, unknown>> = {};
  for (const t of list) {
    const d = toolDigests(t);
    const h = toolHints(t);
    tools[t.name as string] = { model: d.model, structure: d.structure, ...(h.readOnly !== null ? { read_only: h.readOnly } : {}), ...(h.destructive !== null ? { destructive: h.destructive } : {}) };
  }
  return tools;
}

/**
 * The configuration file, each stdio server the client starts itself now started through the
 * wrap (its command and arguments after `--`, its env as it was). Remote servers are left as
 * they are: they are pointed at the proxy by URL and key, which differ per client.
 */
export function wrappedConfig(file: string): { text: string; wrapped: { server: string; as: string }[] } {
  const doc = readConfigDocument(file);
  const wrapped: { server: string; as: string }[] = [];
  for (const { name, raw } of serverObjects(doc)) {
    if (typeof raw.command !== 'string') continue;
    const args = Array.isArray(raw.args) ? raw.args.filter((a): a is string => typeof a === 'string') : [];
    if (unwrap(raw.command, args).wrapped !== null) continue;
    const as = governedName(name);
    raw.args = ['mcp', 'wrap', '--server', as, '--', raw.command, ...args];
    raw.command = 'altrace';
    wrapped.push({ server: name, as });
  }
  return { text: JSON.stringify(doc, null, 2) + '\n', wrapped };
}

/**
 * The policy fragment for the servers scanned: each as an allowed destination, and with live
 * lists its tools pinned. Headed by the agent-config entries the servers need, as a comment.
 */
export function policyFragment(servers: readonly McpServerEntry[], live: readonly LiveList[]): string {
  const names = new Map<string, McpServerEntry>();
  for (const s of servers) names.set(s.wrapped || governedName(s.name), s);
  const registry: Record<string, Record<string, unknown>> = {};
  const entryOf = (name: string) => (registry[name] ??= {});
  for (const l of live) if (l.tools) entryOf(l.server.wrapped || governedName(l.server.name)).tools = pinTools(l.tools);
  // What each pinned launch runs, as server.json names it: a relay opens only for that package at that version.
  for (const [name, s] of names) {
    const launched = s.command ? launchIdentity(s.command, s.args) : null;
    if (launched?.version) {
      const { registryType, identifier, version } = launched;
      entryOf(name).server = { name: `local.altrace/${name}`, version, packages: [{ registryType, identifier, version, transport: { type: 'stdio' } }] };
    }
  }
  // A registered server with no pinned tools would have every tool refused: flagged instead until pinned.
  for (const entry of Object.values(registry)) if (!entry.tools) entry.unapproved = 'flag';
  const config = [...names].map(([name, s]) => (s.command ? { name, transport: 'stdio' } : { name, url: s.url }));
  const head = [
    '# altrace mcp scan --emit-policy: merge into the policy file (policies/default.yaml).',
    '# A pin approves a tool as it reads now: review each before merging (docs/mcp.md#pinned-tools).',
    '# The agent config (config.yaml) names the servers:',
    ...stringifyYaml({ mcp: { servers: config } }).trimEnd().split('\n').map((l) => `#   ${l}`),
    ...(live.length === 0 ? ['# No tools pinned: run the scan with --connect to list and pin them.'] : []),
    '# server: what each launch runs (server.json shape; the name is local, replace it with the registry\'s).',
    '# A server with no tools pinned here has unapproved: flag (its tools flagged, not refused) until you pin them.',
  ];
  const policy: Record<string, unknown> = { destinations: { upstreams: [...names.keys()].map((n) => `mcp:${n}`) } };
  if (Object.keys(registry).length > 0) policy.mcp = { servers: registry };
  return head.join('\n') + '\n' + stringifyYaml(policy);
}
