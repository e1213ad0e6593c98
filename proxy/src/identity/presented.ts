import type { IncomingHttpHeaders } from 'node:http';
import { VIRTUAL_KEY_PREFIX } from './keys.js';
import { POD_IDENTITY_PLACEHOLDER } from './pod.js';

/**
 * What the caller presented as credentials, wherever its SDK put them. Anything
 * that is not an Altrace virtual key is taken for a real provider key: it cannot be ours.
 */
export interface Presented {
  virtual: string | null;
  /**
   * The virtual key's hash, where the key itself stays behind: the decider seam carries the
   * hash across, never the secret (docs/scaling.md). Absent on the loop that received it.
   */
  virtualHash?: string;
  /** The header (or `key` query parameter) that carried a real provider key. */
  realIn: string | null;
  realValue: string | null;
}

function bearer(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  return m ? m[1] : undefined;
}

function one(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function presentedCredential(headers: IncomingHttpHeaders, query: URLSearchParams | null): Presented {
  const auth = one(headers.authorization);
  const out: Presented = { virtual: null, realIn: null, realValue: null };
  // In this order: the first virtual key wins, and the first real key names where it was.
  consider(out, 'authorization', bearer(auth));
  consider(out, 'x-api-key', one(headers['x-api-key']));
  consider(out, 'api-key', one(headers['api-key']));
  consider(out, 'x-goog-api-key', one(headers['x-goog-api-key']));
  if (query) consider(out, 'key', query.get('key') ?? undefined);
  if (out.realIn === null && auth && /^AWS4-HMAC-SHA256\s/i.test(auth)) {
    out.realIn = 'authorization';
    out.realValue = auth;
  }
  return out;
}

function consider(out: Presented, where: string, value: string | undefined): void {
  if (!value || value === POD_IDENTITY_PLACEHOLDER) return;
  if (value.startsWith(VIRTUAL_KEY_PREFIX)) out.virtual ??= value;
  else if (out.realIn === null) {
    out.realIn = where;
    out.realValue = value;
  }
}
