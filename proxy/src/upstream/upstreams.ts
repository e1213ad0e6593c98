import { ParsedUrls } from '../pipeline/parsed-urls.js';
import type { ProviderKind } from '../core/call-view.js';

/** A named destination the proxy forwards to, with how its credential is presented. */
export interface Upstream {
  name: string;
  kind: ProviderKind;
  base: URL;
  /** AWS region, for SigV4 (Bedrock). */
  region?: string;
  /** Self-hosted OpenAI-compatible servers often take no key. */
  credentialRequired: boolean;
  /** How an operator supplies the missing credential (the variable to set): the ALT_CREDENTIAL_MISSING hint. */
  credentialHint?: string;
  /** Model globs routed to this upstream (OpenAI-compatible servers). */
  models: string[];
  /** Where the provider processes the data (config `providers.*.region`); null when not known. */
  dataRegion?: string | null;
  /** An MCP server on stdio (config `transport: stdio`): reached only through a relay `altrace mcp wrap` opened. */
  relayed?: boolean;
}

/** The base of an upstream reached through a relay: never dialled, only named. */
export const RELAYED_BASE = 'http://stdio-relay.altrace.invalid/';

/**
 * Joins an upstream's base URL (which may carry a path, e.g. /v1, and a query an MCP server
 * needs) with a request path and query; the request's own parameters win.
 */
export function upstreamUrl(up: Upstream, pathAndQuery: string): URL {
  const { basePath, urls } = joinerFor(up);
  if (!up.base.search) return urls.get(basePath + pathAndQuery);
  const url = new URL(basePath + pathAndQuery, up.base.origin);
  for (const [k, v] of up.base.searchParams) if (!url.searchParams.has(k)) url.searchParams.append(k, v);
  return url;
}

/** Per upstream, derived once: its base path without trailing slashes, and the URLs parsed under it. */
const joiners = new WeakMap<Upstream, { basePath: string; urls: ParsedUrls }>();

function joinerFor(up: Upstream): { basePath: string; urls: ParsedUrls } {
  let joiner = joiners.get(up);
  if (!joiner) {
    joiner = { basePath: up.base.pathname.replace(/\/+$/, ''), urls: new ParsedUrls(up.base.origin) };
    joiners.set(up, joiner);
  }
  return joiner;
}
