import { block } from '../../core/verdict.js';
import { formatPackage, parsePackage, type PackageRef } from '../../mcp-trust/package-identity.js';
import { sameUrl } from '../../policy/mcp-registry.js';
import type { PolicyHolder } from '../../policy/policy.js';
import { RELAY_HEADER, RELAY_OPEN } from '../../upstream/stdio-relay.js';
import { RELAYED_BASE } from '../../upstream/upstreams.js';
import type { RequestStage } from '../stage.js';

const ID = 'mcp-registry';
/** What `altrace mcp wrap` says it launched, when it opens a relay. */
export const PACKAGE_HEADER = 'x-altrace-mcp-package';

const same = (a: PackageRef, b: PackageRef): boolean => a.registryType === b.registryType && a.identifier === b.identifier && a.version === b.version;

/**
 * The registry's word on which server this is (`mcp.servers.<name>`): a blocked server is refused;
 * with server.json packages, a relay (altrace mcp wrap) is opened only for a launch of one of them
 * at its exact version; with remotes, the configured URL must be one of them. A launch the wrap
 * cannot name (not a launcher it reads) is refused where packages are listed: unknown is not a match.
 */
export function mcpRegistry(policy: PolicyHolder, urls: ReadonlyMap<string, string>): RequestStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'request',
    summary: "MCP requests against the server's registry entry: a blocked server is refused; a stdio server's relay opens only for a package server.json lists; an HTTP server only at a URL it lists",
    evaluate(ctx) {
      const mcp = ctx.call?.mcp;
      const entry = mcp ? policy.current.mcp.get(mcp.server) : undefined;
      if (!mcp || !entry) return null;
      if (entry.trust === 'blocked') return block(ID, 'ALT_MCP_SERVER_BLOCKED', `server ${mcp.server} is blocked in the registry (mcp.servers.${mcp.server}.trust)`);
      const id = entry.identity;
      if (!id) return null;
      const base = urls.get(ctx.call!.upstream);
      if (base === RELAYED_BASE) {
        if (!id.packages || ctx.ingress.method !== 'GET' || ctx.headers[RELAY_HEADER] !== RELAY_OPEN) return null;
        const named = ctx.headers[PACKAGE_HEADER];
        const launched = typeof named === 'string' ? parsePackage(named) : null;
        const listed = id.packages.map(formatPackage).join(', ') || 'no package Altrace can match';
        if (!launched) return block(ID, 'ALT_MCP_SERVER_MISMATCH', `the wrap could not name the package it launches (npx, bunx, uvx, pipx, docker run, or a script in node_modules are read); the registry lists ${listed}`);
        if (!id.packages.some((p) => same(p, launched))) return block(ID, 'ALT_MCP_SERVER_MISMATCH', `launched ${formatPackage(launched)}; the registry lists ${listed}`);
        return null;
      }
      if (id.remotes && base !== undefined && !id.remotes.includes(sameUrl(base))) return block(ID, 'ALT_MCP_SERVER_MISMATCH', `configured at ${sameUrl(base)}; the registry lists ${id.remotes.join(', ')}`);
      return null;
    },
  };
}
