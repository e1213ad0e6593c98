import { block } from '../../core/verdict.js';
import { formatPackage, parsePackage, type PackageRef } from '../../mcp-trust/package-identity.js';
import { sameUrl } from '../../policy/mcp-registry.js';
import type { PolicyHolder } from '../../policy/policy.js';
import { RELAY_HEADER, RELAY_OPEN } from '../../upstream/stdio-relay.js';
import { RELAYED_BASE } from '../../upstream/upstreams.js';
import type { ProvenanceGate } from '../../mcp-trust/provenance-gate.js';
import type { RequestStage } from '../stage.js';
import type { Verdict } from '../../core/verdict.js';

const ID = 'mcp-registry';
/** What `altrace mcp wrap` says it launched, when it opens a relay. */
export const PACKAGE_HEADER = 'x-altrace-mcp-package';

const same = (a: PackageRef, b: PackageRef): boolean => a.registryType === b.registryType && a.identifier === b.identifier && a.version === b.version;

/**
 * The registry's word on which server this is (`mcp.servers.<name>`): a blocked server is refused;
 * with server.json packages, a relay (altrace mcp wrap) is opened only for a launch of one of them
 * at its exact version — and, where the entry requires provenance, only when that npm package's
 * provenance verifies and names the listed repository; with remotes, the configured URL must be
 * one of them. A launch the wrap cannot name (not a launcher it reads) is refused where packages
 * are listed: unknown is not a match. Without a provenance gate, a required provenance refuses.
 */
export function mcpRegistry(policy: PolicyHolder, urls: ReadonlyMap<string, string>, provenance: ProvenanceGate | null = null): RequestStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'request',
    summary: "MCP requests against the server's registry entry: a blocked server is refused; a stdio server's relay opens only for a package server.json lists (with verified npm provenance where required); an HTTP server only at a URL it lists",
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
        const listedAs = id.packages.find((p) => same(p, launched));
        if (!listedAs) return block(ID, 'ALT_MCP_SERVER_MISMATCH', `launched ${formatPackage(launched)}; the registry lists ${listed}`);
        if (entry.provenance !== 'required') return null;
        return provenanceOf(mcp.server, launched, listedAs.registryBaseUrl ?? null, id.repository);
      }
      if (id.remotes && base !== undefined && !id.remotes.includes(sameUrl(base))) return block(ID, 'ALT_MCP_SERVER_MISMATCH', `configured at ${sameUrl(base)}; the registry lists ${id.remotes.join(', ')}`);
      return null;
    },
  };

  /** The launch's provenance, as the gate answers it; refused (before the server starts) unless it verified. */
  function provenanceOf(server: string, launched: PackageRef, registryBaseUrl: string | null, repository: string | null): Verdict | null | Promise<Verdict | null> {
    const refuse = (detail: string): Verdict => block(ID, 'ALT_MCP_PROVENANCE_FAILED', `${formatPackage(launched)} for server ${server}: ${detail}`);
    if (repository === null) return refuse('the registry entry names no repository (server.repository) to hold the provenance to');
    if (launched.registryType !== 'npm' || launched.version === null) return refuse('provenance is verified for npm packages at one exact version only');
    if (!provenance) return refuse('this agent has no provenance verifier');
    const answer = provenance({ ...launched, version: launched.version }, repository, registryBaseUrl);
    const judged = (a: { ok: boolean; detail: string }) => (a.ok ? null : refuse(a.detail));
    return answer instanceof Promise ? answer.then(judged) : judged(answer);
  }
}
