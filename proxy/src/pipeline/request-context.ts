import type { IncomingHttpHeaders } from 'node:http';
import type { RequestContext } from '../chain/context.js';
import type { IngressFacts } from '../core/ingress-facts.js';
import { presentedCredential } from '../identity/presented.js';
import type { RouteMatch } from '../providers/adapter.js';
import type { CallView } from '../core/call-view.js';
import type { Routed } from '../providers/routes.js';
import { parseJson, type ReadBody } from './body.js';

/** A request as the chain sees it, and the parts of it the proxy forwards. */
export interface DescribedRequest {
  ctx: RequestContext;
  facts: IngressFacts;
  call: CallView | null;
  /** The body parsed (undefined when there was none or it was not JSON). */
  json: unknown;
  bytes: Uint8Array | null;
}

/** Whether the route takes a body the proxy must read before the chain can decide. */
export function expectsBody(routed: Routed, method: string): boolean {
  return routed.match !== null && method === 'POST';
}

/**
 * Builds the chain's view of a request from what the listener received: ingress facts, the
 * parsed body, the adapter's CallView and the presented credentials. The proxy and
 * `altrace policy explain` both describe requests here, so they decide alike.
 */
export function describeRequest(id: string, method: string, url: URL, routed: Routed, headers: IncomingHttpHeaders, read: ReadBody | null, maxJsonDepth: number): DescribedRequest {
  const match: RouteMatch | null = routed.match;
  const facts: IngressFacts = {
    method,
    path: url.pathname,
    routed: routed.known,
    methodAllowed: match !== null,
    contentType: (headers['content-type'] as string | undefined) ?? null,
    bodyBytes: 0,
    tooLarge: false,
    jsonError: null,
    jsonTooDeep: false,
    shapeError: null,
    expectsBody: expectsBody(routed, method),
  };
  let json: unknown;
  let bytes: Uint8Array | null = null;
  let call: CallView | null = null;
  if (read) {
    facts.bodyBytes = read.length;
    facts.tooLarge = read.tooLarge;
    if (!read.tooLarge) {
      bytes = read.bytes;
      const parsed = parseJson(read.bytes, maxJsonDepth);
      facts.jsonError = parsed.error;
      facts.jsonTooDeep = parsed.tooDeep;
      json = parsed.value;
      if (parsed.error === null) {
        const view = match!.adapter.parse(match!, json);
        if (typeof view === 'string') facts.shapeError = view;
        else call = view;
      }
    }
  } else if (match) {
    const view = match.adapter.parse(match, undefined);
    if (typeof view !== 'string') call = view;
  }
  const ctx: RequestContext = {
    id,
    headers,
    ingress: facts,
    presented: presentedCredential(headers, url.search === '' ? null : url.searchParams),
    call,
    body: bytes,
    json,
    rewritten: null,
    content: null,
    key: null,
    principal: null,
    pod: null,
    charge: null,
    notes: [],
  };
  return { ctx, facts, call, json, bytes };
}
