// `altrace mcp scan --policy FILE`: each configured server held against the policy's registry
// (mcp.servers), as the proxy would hold it — before the client starts anything.
import { formatPackage, sameUrl, type McpServerPins } from '../../../proxy/src/index.js';
import type { McpServerEntry } from './client-configs.js';
import type { ConfigFinding } from './config-checks.js';
import { governedName } from './emit.js';
import { launchIdentity } from './launch.js';
import { provenanceFromCache } from './provenance.js';

export function registryFindings(servers: readonly McpServerEntry[], registry: ReadonlyMap<string, McpServerPins>, policyFile: string): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  for (const s of servers) {
    // A client pointed at the proxy (http://…/mcp/NAME) names the server by that path: the proxy's config holds its URL.
    const proxied = s.url ? /\/mcp\/([a-z0-9][a-z0-9._-]{0,63})\/?$/.exec(new URL(s.url, 'http://x').pathname)?.[1] : undefined;
    const name = s.wrapped || proxied || governedName(s.name);
    const entry = registry.get(name);
    const at = (what: string) => ({ server: s.name, file: s.file, at: `${s.at}${what}` });
    if (!entry) {
      out.push({ rule: 'server-unregistered', severity: 'medium', ...at(''), message: `${name} is not in the registry of ${policyFile} (mcp.servers): its tools are not pinned and its package not checked` });
      continue;
    }
    if (entry.trust === 'blocked') out.push({ rule: 'server-blocked', severity: 'high', ...at(''), message: `the registry blocks ${name}: every request to it is refused` });
    const id = entry.identity;
    if (id?.packages && s.command) {
      const launched = launchIdentity(s.command, s.args);
      const listed = id.packages.map(formatPackage).join(', ');
      const match = launched && id.packages.some((p) => p.registryType === launched.registryType && p.identifier === launched.identifier && p.version === launched.version);
      if (!match) out.push({ rule: 'server-mismatch', severity: 'high', ...at('.args'), message: `launches ${launched ? formatPackage(launched) : 'a command no package can be named for'}; the registry lists ${listed}: the proxy refuses its relay` });
    }
    if (id?.remotes && s.url && !proxied && !id.remotes.includes(sameUrl(s.url))) {
      out.push({ rule: 'server-mismatch', severity: 'high', ...at('.url'), message: `points at ${sameUrl(s.url)}; the registry lists ${id.remotes.join(', ')}` });
    }
  }
  return out;
}

/**
 * `--provenance DIR`: each server launched as a pinned npm package has its provenance verified
 * from the attestations cached in DIR, and held to the registry's repository where one is given.
 */
export function provenanceFindings(servers: readonly McpServerEntry[], registry: ReadonlyMap<string, McpServerPins> | null, dir: string, trustedRoot: unknown, locked: ReadonlyMap<string, { version: string; integrity: string | null }> | null = null): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  for (const s of servers) {
    const launched = s.command ? launchIdentity(s.command, s.args) : null;
    if (!launched || launched.registryType !== 'npm' || !launched.version) continue;
    const name = s.wrapped || governedName(s.name);
    const expected = registry?.get(name)?.identity?.repository ?? null;
    // With a lockfile, the statement must be about the bytes it locks.
    const lock = locked?.get(launched.identifier);
    const r = provenanceFromCache(dir, launched.identifier, launched.version, trustedRoot, expected, lock?.version === launched.version ? lock.integrity : null);
    const at = { server: s.name, file: s.file, at: `${s.at}.args` };
    const pkg = formatPackage(launched);
    if (r.status === 'absent') out.push({ rule: 'provenance-absent', severity: 'medium', ...at, message: `${pkg}: no provenance (${r.detail}): nothing says which source built it` });
    else if (r.status === 'invalid') out.push({ rule: 'provenance-invalid', severity: 'high', ...at, message: `${pkg}: ${r.detail}` });
    else if (r.status === 'mismatch') out.push({ rule: 'provenance-mismatch', severity: 'high', ...at, message: `${pkg}: ${r.detail}` });
  }
  return out;
}

/** What a package-lock.json (v2/v3: `packages["node_modules/NAME"]`; v1: `dependencies`) locks, by package name. */
export function lockedPackages(lockfile: unknown): Map<string, { version: string; integrity: string | null }> {
  const out = new Map<string, { version: string; integrity: string | null }>();
  const doc = lockfile as { packages?: Record<string, { version?: unknown; integrity?: unknown }>; dependencies?: Record<string, { version?: unknown; integrity?: unknown }> } | null;
  const add = (name: string, e: { version?: unknown; integrity?: unknown }) => {
    if (typeof e.version === 'string' && !out.has(name)) out.set(name, { version: e.version, integrity: typeof e.integrity === 'string' ? e.integrity : null });
  };
  for (const [path, e] of Object.entries(doc?.packages ?? {})) {
    const at = path.lastIndexOf('node_modules/');
    if (at >= 0) add(path.slice(at + 'node_modules/'.length), e);
  }
  for (const [name, e] of Object.entries(doc?.dependencies ?? {})) add(name, e);
  return out;
}

/** `--lockfile FILE`: each server launched as an npm package must be the version the lockfile locks. */
export function lockfileFindings(servers: readonly McpServerEntry[], locked: ReadonlyMap<string, { version: string }>, file: string): ConfigFinding[] {
  const out: ConfigFinding[] = [];
  for (const s of servers) {
    const launched = s.command ? launchIdentity(s.command, s.args) : null;
    if (!launched || launched.registryType !== 'npm') continue;
    const lock = locked.get(launched.identifier);
    const at = { server: s.name, file: s.file, at: `${s.at}.args` };
    if (!lock) out.push({ rule: 'package-not-locked', severity: 'medium', ...at, message: `${launched.identifier} is not in ${file}: nothing fixes which bytes it is` });
    else if (launched.version !== lock.version) out.push({ rule: 'package-lock-mismatch', severity: 'high', ...at, message: `launches ${formatPackage(launched)}; ${file} locks ${lock.version}` });
  }
  return out;
}
