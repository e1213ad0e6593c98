import { hash } from 'node:crypto';
import { returnedToolCalls, type CallView } from '../core/call-view.js';
import type { EvidenceRule } from './compile.js';
import { jsonDeeperThan, MAX_JSON_DEPTH_CEILING } from '../core/json-depth.js';

/**
 * One tool that has returned, as the ledger keeps it: the tool's name and, for the argument
 * paths some evidence rule binds, a digest of the value. Never the arguments themselves:
 * equality is all a binding needs, and the ledger keeps no content.
 */
export interface Evidence {
  tool: string;
  bound: ReadonlyMap<string, string>;
}

/**
 * Arguments as the provider sent them: JSON text (OpenAI, streamed pieces) or an object. Text
 * nested past the depth ceiling is no object at all (a rule reading it finds nothing and
 * fails closed): the ingress bound never saw inside the string, and serialising a digest of
 * what it holds would overflow the stack.
 */
export function argumentsObject(args: unknown): unknown {
  if (typeof args !== 'string') return args;
  if (jsonDeeperThan(args, MAX_JSON_DEPTH_CEILING)) return undefined;
  try {
    return JSON.parse(args);
  } catch {
    return undefined;
  }
}

export function valueAt(obj: unknown, path: string): unknown {
  let v = obj;
  for (const part of path.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Digest of a bound value; "42" and 42 are the same order id. */
export function valueDigest(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const s = typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return hash('sha256', s, 'base64url').slice(0, 22);
}

export function evidenceOf(tool: string, args: unknown, paths: readonly string[]): Evidence {
  const bound = new Map<string, string>();
  if (paths.length) {
    const obj = argumentsObject(args);
    for (const p of paths) {
      const d = valueDigest(valueAt(obj, p));
      if (d !== null) bound.set(p, d);
    }
  }
  return { tool, bound };
}

/** The prerequisite tools (keys of `paths`) that have returned in this request's history. */
export function evidenceFromHistory(call: CallView, paths: ReadonlyMap<string, readonly string[]>): Evidence[] {
  if (paths.size === 0) return [];
  const out: Evidence[] = [];
  for (const { call: c } of returnedToolCalls(call)) {
    const want = paths.get(c.name);
    if (want) out.push(evidenceOf(c.name, c.arguments, want));
  }
  return out;
}

/** What an evidence rule still needs before `args` may be used with its tool; null when satisfied. */
export function missingEvidence(rule: EvidenceRule, args: unknown, available: readonly Evidence[]): string | null {
  const obj = argumentsObject(args);
  const wanted: [string, string | null][] = rule.match.map(([own, theirs]) => [theirs, valueDigest(valueAt(obj, own))]);
  const satisfied = available.some((e) => e.tool === rule.requires && wanted.every(([theirs, d]) => d !== null && e.bound.get(theirs) === d));
  if (satisfied) return null;
  if (rule.match.length === 0) return `call ${rule.requires} first and let it return`;
  const unbound = rule.match.filter(([own]) => valueDigest(valueAt(obj, own)) === null).map(([own]) => own);
  if (unbound.length) return `the call must carry ${unbound.join(', ')} (bound to ${rule.requires})`;
  return `call ${rule.requires} with the same ${rule.match.map(([own, theirs]) => (own === theirs ? own : `${theirs} (= ${own})`)).join(', ')} first and let it return`;
}

interface RunEvidence {
  items: Evidence[];
  lastSeen: number;
}

export interface LedgerLimits {
  maxRuns: number;
  maxPerRun: number;
  ttlMs: number;
}

export const DEFAULT_LEDGER_LIMITS: LedgerLimits = { maxRuns: 100_000, maxPerRun: 256, ttlMs: 24 * 3600_000 };

/**
 * Evidence per run (agent + x-altrace-run), in memory and bounded: the least recently used
 * run is forgotten past `maxRuns`, a run's oldest evidence past `maxPerRun`, an idle run after
 * `ttlMs`. Forgetting fails closed: the prerequisite has to be shown again.
 */
export class EvidenceLedger {
  readonly #runs = new Map<string, RunEvidence>();
  /** Told of evidence recorded here (not merged): a followed node shares it with the fleet. */
  onRecord: ((agent: string, run: string, items: readonly Evidence[], now: number) => void) | null = null;

  constructor(readonly limits: LedgerLimits = DEFAULT_LEDGER_LIMITS) {}

  static key(agent: string, run: string): string {
    return `${agent}\u0000${run}`;
  }

  record(agent: string, run: string, items: readonly Evidence[], now: number): void {
    if (items.length === 0) return;
    this.merge(agent, run, items, now);
    this.onRecord?.(agent, run, items, now);
  }

  /** Evidence the same run produced on another node of the fleet. */
  merge(agent: string, run: string, items: readonly Evidence[], now: number): void {
    if (items.length === 0) return;
    const key = EvidenceLedger.key(agent, run);
    let r = this.#runs.get(key);
    if (r) this.#runs.delete(key);
    else r = { items: [], lastSeen: now };
    r.lastSeen = now;
    for (const e of items) {
      if (r.items.some((x) => x.tool === e.tool && sameBindings(x.bound, e.bound))) continue;
      r.items.push(e);
    }
    if (r.items.length > this.limits.maxPerRun) r.items.splice(0, r.items.length - this.limits.maxPerRun);
    this.#runs.set(key, r);
    this.#evict(now);
  }

  get(agent: string, run: string, now: number): readonly Evidence[] {
    const r = this.#runs.get(EvidenceLedger.key(agent, run));
    if (!r) return [];
    if (now - r.lastSeen > this.limits.ttlMs) {
      this.#runs.delete(EvidenceLedger.key(agent, run));
      return [];
    }
    return r.items;
  }

  get runs(): number {
    return this.#runs.size;
  }

  #evict(now: number): void {
    while (this.#runs.size > this.limits.maxRuns) this.#runs.delete(this.#runs.keys().next().value!);
    // Oldest first (insertion order is recency): stop at the first run still fresh.
    for (const [key, r] of this.#runs) {
      if (now - r.lastSeen <= this.limits.ttlMs) break;
      this.#runs.delete(key);
    }
  }
}

function sameBindings(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}
