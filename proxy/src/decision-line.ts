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

/** Fields whose values come from small sets (providers, models, principals, reasons): their JSON is remembered. */
const REPEATING: ReadonlySet<keyof DecisionFields> = new Set(['provider', 'upstream', 'op', 'model', 'agent', 'team', 'key_id', 'outcome', 'reason', 'stage']);

interface Field {
  name: keyof DecisionFields;
  key: string;
  repeating: boolean;
}
const FIELDS: readonly Field[] = (
  ['req_id', 'provider', 'upstream', 'op', 'model', 'stream', 'agent', 'team', 'key_id', 'outcome', 'reason', 'stage', 'detail', 'warnings', 'status', 'fragments', 'labels', 'contracts', 'cost_usd', 'tokens_in', 'tokens_out', 'overhead_ms', 'upstream_ms'] as const
).map((name) => ({ name, key: `,"${name}":`, repeating: REPEATING.has(name) }));

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

  /** JSON of a string seen before: these repeat from one decision to the next, and quoting them was most of the line's cost. */
  #quoted(s: string): string {
    let json = this.#quotes.get(s);
    if (json === undefined) {
      json = JSON.stringify(s);
      if (this.#quotes.size >= QUOTED_LIMIT) this.#quotes.clear();
      this.#quotes.set(s, json);
    }
    return json;
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
    let line = direct.prefix + direct.time() + direct.chindings;
    for (let i = 0; i < FIELDS.length; i++) {
      const f = FIELDS[i]!;
      const v = d[f.name];
      if (v === undefined) continue;
      line += f.key + (typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'null') : typeof v === 'string' && f.repeating ? this.#quoted(v) : JSON.stringify(v));
    }
    direct.stream.write(line + ',"msg":"decision"}\n');
  }
}
