import type { KeyObject } from 'node:crypto';
import { DelegationError, parseChain, publicKeyFromRaw, verifyLinkSignature, type Link, type LinkPayload } from './format.js';
import { DATA_CLASSES, narrowed, widening, type Grant } from './grant.js';

/** A chain that verified: what it grants, to whom, and until when. */
export interface VerifiedChain {
  links: Link[];
  /** The grant in force at the end of the chain. */
  grant: Grant;
  /** The agent the last link is for. */
  aud: string;
  /** The latest nbf and the earliest exp over the chain (seconds). */
  nbf: number;
  exp: number;
  /** Each link's id and the budget it caps (every ancestor's budget counts the descendants' spend). */
  budgets: { id: string; usd: number; exp: number }[];
}

const KEY = /^[A-Za-z0-9_-]{43}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$/;
const FIELDS = new Set(['v', 'iss', 'sub', 'aud', 'prev', 'iat', 'nbf', 'exp', 'budget_usd', 'models', 'tools', 'data_ceiling', 'rate', 'regions']);

function names(v: unknown): boolean {
  return Array.isArray(v) && v.length <= 64 && v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 200);
}

/** A payload field that is missing, of the wrong type, or unknown (a verifier must understand every field). */
function shapeError(p: Record<string, unknown>): { field: string; message: string } | null {
  const bad = (field: string, message: string) => ({ field, message });
  for (const k of Object.keys(p)) if (!FIELDS.has(k)) return bad(k, `unknown field "${k}"`);
  if (p.v !== 1) return bad('v', 'v must be 1');
  if (typeof p.iss !== 'string' || !KEY.test(p.iss)) return bad('iss', 'iss must be an Ed25519 public key (base64url)');
  if (typeof p.sub !== 'string' || !KEY.test(p.sub)) return bad('sub', 'sub must be an Ed25519 public key (base64url)');
  if (typeof p.aud !== 'string' || !NAME.test(p.aud)) return bad('aud', 'aud must be an agent name');
  if (p.prev !== undefined && (typeof p.prev !== 'string' || !KEY.test(p.prev))) return bad('prev', 'prev must be a SHA-256 (base64url)');
  for (const t of ['iat', 'nbf', 'exp'] as const) if (!Number.isSafeInteger(p[t])) return bad(t, `${t} must be an integer (unix seconds)`);
  if ((p.exp as number) <= (p.nbf as number)) return bad('exp', 'exp must be after nbf');
  if (p.budget_usd !== undefined && !(typeof p.budget_usd === 'number' && Number.isFinite(p.budget_usd) && p.budget_usd >= 0)) return bad('budget_usd', 'budget_usd must be a number ≥ 0');
  for (const d of ['models', 'tools', 'regions'] as const) if (p[d] !== undefined && !names(p[d])) return bad(d, `${d} must be a list of names (at most 64)`);
  if (p.data_ceiling !== undefined && !(DATA_CLASSES as readonly unknown[]).includes(p.data_ceiling)) return bad('data_ceiling', `data_ceiling must be one of ${DATA_CLASSES.join(', ')}`);
  if (p.rate !== undefined) {
    const r = p.rate as Record<string, unknown>;
    if (typeof r !== 'object' || r === null || Object.keys(r).some((k) => k !== 'requests' && k !== 'per_s') || !Number.isSafeInteger(r.requests) || (r.requests as number) < 1 || !(typeof r.per_s === 'number' && r.per_s > 0)) {
      return bad('rate', 'rate must be {requests: integer ≥ 1, per_s: number > 0}');
    }
  }
  return null;
}

/**
 * Verifies a delegation chain offline: the first link is signed by one of `roots`; each
 * later link is signed by its parent's holder, names its parent by hash, never widens any
 * dimension of the grant above it and never outlives it. Any failure refuses the whole chain.
 * `now` (seconds) must fall within every link's validity; null leaves the time to the caller
 * (the result's nbf/exp are the chain's window), so a result can be cached across requests.
 */
export function verifyChain(chain: string, roots: ReadonlyMap<string, KeyObject>, now: number | null): VerifiedChain {
  const links = parseChain(chain);
  let grant: Grant = {};
  let parent: LinkPayload | null = null;
  const budgets: VerifiedChain['budgets'] = [];
  for (const [i, link] of links.entries()) {
    const p = link.payload as unknown as Record<string, unknown>;
    if (typeof p !== 'object' || p === null || Array.isArray(p)) throw new DelegationError(`link ${i}: the payload must be an object`, i);
    const bad = shapeError(p);
    if (bad) throw new DelegationError(`link ${i}: ${bad.message}`, i, bad.field);
    const payload = link.payload;
    let issuer: KeyObject | undefined;
    if (parent === null) {
      if (payload.prev !== undefined) throw new DelegationError('link 0 names a parent: the chain is truncated', 0);
      issuer = roots.get(payload.iss);
      if (!issuer) throw new DelegationError('link 0 is not signed by a trusted root key', 0);
    } else {
      if (payload.prev !== links[i - 1]!.id) throw new DelegationError(`link ${i} does not name link ${i - 1} as its parent (reordered or spliced)`, i);
      if (payload.iss !== parent.sub) throw new DelegationError(`link ${i} is not issued by the holder of link ${i - 1}`, i);
      if (payload.nbf < parent.nbf || payload.exp > parent.exp) throw new DelegationError(`link ${i} outlives its parent (valid ${payload.nbf}–${payload.exp}, parent ${parent.nbf}–${parent.exp})`, i);
      const wider = widening(grant, payload);
      if (wider) throw new DelegationError(`link ${i} widens ${wider.dimension}: ${wider.message}`, i);
      issuer = publicKeyFromRaw(payload.iss);
    }
    if (!verifyLinkSignature(link, issuer)) throw new DelegationError(`link ${i}: the signature does not verify`, i);
    if (now !== null && now < payload.nbf) throw new DelegationError(`link ${i} is not valid before ${new Date(payload.nbf * 1000).toISOString()}`, i);
    if (now !== null && now >= payload.exp) throw new DelegationError(`link ${i} expired at ${new Date(payload.exp * 1000).toISOString()}`, i);
    grant = narrowed(grant, payload);
    if (payload.budget_usd !== undefined) budgets.push({ id: link.id, usd: payload.budget_usd, exp: payload.exp });
    parent = payload;
  }
  const last = links.at(-1)!.payload;
  return { links, grant, aud: last.aud, nbf: Math.max(...links.map((l) => l.payload.nbf)), exp: Math.min(...links.map((l) => l.payload.exp)), budgets };
}
