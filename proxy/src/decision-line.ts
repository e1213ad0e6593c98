import { pino } from 'pino';
import type { Logger } from './log.js';

/** The fields of the one log line per decision, in the order they are written. Never content, never a key. */
export interface DecisionFields {
  req_id: string;
  provider: string;
  upstream: string | null | undefined;
  op: string | null | undefined;
  model: string | null | undefined;
  stream: boolean | null | undefined;
  agent: string | null | undefined;
  team: string | null | undefined;
  key_id: string | null | undefined;
  outcome: string;
  reason: string;
  stage: string | null | undefined;
  detail: string | null | undefined;
  warnings: readonly string[] | null | undefined;
  status: number;
  fragments: number | null | undefined;
  labels: readonly string[] | null | undefined;
  contracts: readonly string[] | null | undefined;
  cost_usd: number | null | undefined;
  tokens_in: number | null | undefined;
  tokens_out: number | null | undefined;
  overhead_ms: number;
  upstream_ms: number;
}

/** A field of any JSON value; nothing when undefined, as pino leaves it out. */
function any(key: string, v: unknown): string {
  if (v === undefined) return '';
  return key + (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : JSON.stringify(v));
}

/** At most this many remembered strings; past it the memory starts again (an agent may send any model name). */
const QUOTED_LIMIT = 4096;

interface PinoInternals {
  [k: symbol]: unknown;
}

/**
 * Writes the decision line the way pino would (same level, time, bindings and message
 * keys, same destination), without pino's generic object walk: at a few thousand decisions
 * a second that walk was the proxy's largest allocation. Falls back to `logger.info` for a
 * logger whose internals are not the ones this was written against.
 */
export class DecisionLine {
  readonly #logger: Logger;
  readonly #quotes = new Map<string, string>();
  readonly #direct: { prefix: string; time: () => string; chindings: string; stream: { write(s: string): unknown } } | null;

  constructor(logger: Logger) {
    this.#logger = logger;
    const l = logger as unknown as PinoInternals;
    const s = pino.symbols;
    const cache = l[s.lsCacheSym] as Record<number, string> | undefined;
    const time = l[s.timeSym] as (() => string) | undefined;
    const chindings = l[s.chindingsSym];
    const stream = l[s.streamSym] as { write?: unknown } | undefined;
    const ok = cache?.[30] && typeof time === 'function' && typeof chindings === 'string' && typeof stream?.write === 'function' && !l[s.mixinSym];
    this.#direct = ok ? { prefix: cache[30]!, time, chindings, stream: stream as { write(s: string): unknown } } : null;
  }

  /** A field whose value repeats from one decision to the next: its JSON is remembered, as quoting was most of the line's cost. */
  #repeating(key: string, v: string | null | undefined): string {
    if (v === undefined) return '';
    if (v === null) return key + 'null';
    let json = this.#quotes.get(v);
    if (json === undefined) {
      json = JSON.stringify(v);
      if (this.#quotes.size >= QUOTED_LIMIT) this.#quotes.clear();
      this.#quotes.set(v, json);
    }
    return key + json;
  }

  get enabled(): boolean {
    return this.#logger.isLevelEnabled('info');
  }

  write(d: DecisionFields): void {
    const direct = this.#direct;
    if (!direct) {
      this.#logger.info(d, 'decision');
      return;
    }
    // Field by field, in the interface's order: named reads of one shape, where a loop over
    // field names was a megamorphic keyed read per field. Values from small sets (providers,
    // models, principals, reasons) are quoted once and remembered.
    const line =
      direct.prefix +
      direct.time() +
      direct.chindings +
      any(',"req_id":', d.req_id) +
      this.#repeating(',"provider":', d.provider) +
      this.#repeating(',"upstream":', d.upstream) +
      this.#repeating(',"op":', d.op) +
      this.#repeating(',"model":', d.model) +
      any(',"stream":', d.stream) +
      this.#repeating(',"agent":', d.agent) +
      this.#repeating(',"team":', d.team) +
      this.#repeating(',"key_id":', d.key_id) +
      this.#repeating(',"outcome":', d.outcome) +
      this.#repeating(',"reason":', d.reason) +
      this.#repeating(',"stage":', d.stage) +
      any(',"detail":', d.detail) +
      any(',"warnings":', d.warnings) +
      any(',"status":', d.status) +
      any(',"fragments":', d.fragments) +
      any(',"labels":', d.labels) +
      any(',"contracts":', d.contracts) +
      any(',"cost_usd":', d.cost_usd) +
      any(',"tokens_in":', d.tokens_in) +
      any(',"tokens_out":', d.tokens_out) +
      any(',"overhead_ms":', d.overhead_ms) +
      any(',"upstream_ms":', d.upstream_ms);
    direct.stream.write(line + ',"msg":"decision"}\n');
  }
}
