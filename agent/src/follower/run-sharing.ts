// A run whose calls land on different nodes is judged as one run (docs/fleet.md, "What else is
// shared"): the evidence a node records, the run-loop steps it counts, the contract rate it
// takes and the spend it settles on delegation links go to the fleet, and what the other nodes recorded is merged here. Best effort and fast, never on the request path:
// a step still on its way is not counted yet (a run loop is caught a few calls later), and
// evidence still on its way is missing (the evidence rule fails closed).
import type { DelegationBudgets, Evidence, EvidenceLedger, Logger, RateBuckets, RunTracker } from '../../../proxy/src/index.js';
import type { FrameLink } from '../fleet/frames.js';

/** One event as it travels: evidence recorded, or a run-loop step counted, on node `n`. */
type RunEvent =
  | { t: 'e'; a: string; r: string; at: number; i: [string, [string, string][]][] }
  | { t: 's'; a: string; r: string; at: number; p: string }
  /** A request taken from a contract's rate (bucket key, its requests per perMs). */
  | { t: 'r'; k: string; n: number; ms: number; at: number }
  /** Spend settled on a delegation link (its id, USD, its expiry in epoch seconds). */
  | { t: 'd'; id: string; usd: number; exp: number; at: number };

const FLUSH_MS = 10;
/** A NOTIFY payload carries at most 8000 bytes: frames stay under it with room for the envelope. */
const MAX_BATCH_BYTES = 6_000;
const MAX_PENDING = 10_000;


export class RunSharing {
  #pending: string[] = [];
  #pendingBytes = 0;
  #timer: NodeJS.Timeout | null = null;
  link: FrameLink | null = null;

  constructor(
    private readonly evidence: EvidenceLedger,
    private readonly runs: RunTracker,
    private readonly rates: RateBuckets,
    private readonly delegation: DelegationBudgets,
    private readonly logger: Logger,
  ) {
    delegation.onSpend = (id, usd, exp) => this.#push({ t: 'd', id, usd, exp, at: Date.now() });
    rates.onTake = (k, n, ms, at) => this.#push({ t: 'r', k, n, ms, at });
    evidence.onRecord = (a, r, items, at) => this.#push({ t: 'e', a, r, at, i: items.map((e) => [e.tool, [...e.bound]]) });
    runs.onStep = (a, r, p, at) => this.#push({ t: 's', a, r, at, p });
  }

  /** Events other nodes produced, relayed by the control plane. */
  onEvents(batch: Buffer): void {
    let events: RunEvent[];
    try {
      events = JSON.parse(batch.toString('utf8')) as RunEvent[];
    } catch {
      return void this.logger.warn('run events from the control plane are not JSON; dropped');
    }
    for (const e of events) {
      if (e.t === 's') this.runs.merge(e.a, e.r, e.p, e.at);
      else if (e.t === 'r') this.rates.merge(e.k, e.n, e.ms, e.at);
      else if (e.t === 'd') this.delegation.merge(e.id, e.usd, e.exp);
      else this.evidence.merge(e.a, e.r, e.i.map(([tool, bound]): Evidence => ({ tool, bound: new Map(bound) })), e.at);
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.evidence.onRecord = null;
    this.runs.onStep = null;
    this.rates.onTake = null;
    this.delegation.onSpend = null;
  }

  #push(e: RunEvent): void {
    if (!this.link) return;
    const text = JSON.stringify(e);
    if (this.#pendingBytes + text.length > MAX_BATCH_BYTES) this.#flush();
    if (this.#pending.length >= MAX_PENDING) return;
    this.#pending.push(text);
    this.#pendingBytes += text.length + 1;
    this.#timer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#pending.length === 0) return;
    const events = Buffer.from(`[${this.#pending.join(',')}]`);
    this.#pending = [];
    this.#pendingBytes = 0;
    this.link?.send({ run_events: { events } });
  }
}
