import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// Hop-by-hop headers, client credentials and Altrace's own headers never travel upstream;
// accept-encoding is dropped because every response is decoded and inspected.
const DROP_UPSTREAM = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'accept-encoding',
  'authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'expect',
  'http2-settings',
]);

export function upstreamHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  // for-in, not Object.entries: no pair array per header on every request.
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || name.startsWith(':') || DROP_UPSTREAM.has(name) || name.startsWith('x-altrace-') || name.startsWith('x-amz-')) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  out['accept-encoding'] = 'identity';
  return out;
}

const DROP_DOWNSTREAM = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'trailer', 'upgrade', 'proxy-connection']);

/** Upstream response headers worth passing to the agent (request ids, rate-limit info, content type). */
export function downstreamHeaders(upstream: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in upstream) {
    const value = upstream[name];
    if (value === undefined || DROP_DOWNSTREAM.has(name)) continue;
    out[name] = value;
  }
  return out;
}
