// Failed authentication per source address, on the proxy (unknown virtual keys) and the
// control API (unknown operator tokens): a token bucket of failures per source. A source that
// has spent it is refused without its credential being looked at, until the bucket refills —
// guessing keys costs time, and a correct key from that source waits as well (the source is
// the unit: a pod, a host). Each lockout that follows another before the bucket has refilled
// doubles the wait (up to 64 times the first): a source that keeps guessing waits longer and longer.
import { systemClock, type Clock } from '../core/clock.js';

export interface AuthFailureLimit {
  /** Failures a source may make in `perMs` before it is refused (0: no limit). */
  failures: number;
  perMs: number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** Lockouts since the bucket was last full. */
  strikes: number;
}

/** How much slower a bucket refills after `strikes` lockouts in a row: 1, then 2, 4, … 64. */
export function lockoutSlowdown(strikes: number): number {
  return 2 ** Math.min(Math.max(strikes - 1, 0), 6);
}

export class AuthFailures {
  readonly #buckets = new Map<string, Bucket>();
  readonly #limit: AuthFailureLimit;
  readonly #now: Clock;
  readonly #maxSources: number;
  /** Failures recorded since start, for the metric. */
  failures = 0;

  constructor(limit: AuthFailureLimit, now: Clock = systemClock, maxSources = 10_000) {
    this.#limit = limit;
    this.#now = now;
    this.#maxSources = maxSources;
  }

  /** True while some source has failed recently: the request path skips the lookup otherwise. */
  get watching(): boolean {
    return this.#buckets.size > 0;
  }

  /** How long `source` must wait before its credentials are looked at again; 0 when it need not. */
  retryAfterMs(source: string): number {
    const b = this.#buckets.get(source);
    if (!b) return 0;
    this.#refill(source, b);
    if (b.tokens >= 1) return 0;
    return Math.ceil(((1 - b.tokens) * this.#limit.perMs * lockoutSlowdown(b.strikes)) / this.#limit.failures);
  }

  /** Records a failure; true when it is the one that locked the source out (for the audit log). */
  fail(source: string): boolean {
    this.failures++;
    if (this.#limit.failures <= 0) return false;
    let b = this.#buckets.get(source);
    if (b) this.#refill(source, b);
    else {
      // Oldest first: a flood of sources pushes out the quietest, never grows without end.
      if (this.#buckets.size >= this.#maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: this.#limit.failures, at: this.#now(), strikes: 0 };
      this.#buckets.set(source, b);
    }
    const wasOpen = b.tokens >= 1;
    b.tokens = Math.max(0, b.tokens - 1);
    const locked = wasOpen && b.tokens < 1;
    if (locked) b.strikes++;
    return locked;
  }

  /** The sources refused now, and for how long yet. */
  lockedOut(): { source: string; retryAfterMs: number }[] {
    const out: { source: string; retryAfterMs: number }[] = [];
    for (const source of [...this.#buckets.keys()]) {
      const wait = this.retryAfterMs(source);
      if (wait > 0) out.push({ source, retryAfterMs: wait });
    }
    return out;
  }

  /** Lifts a source's lockout (an operator's decision); false when it had none. */
  clear(source: string): boolean {
    return this.#buckets.delete(source);
  }

  #refill(source: string, b: Bucket): void {
    const now = this.#now();
    b.tokens = Math.min(this.#limit.failures, b.tokens + ((now - b.at) * this.#limit.failures) / (this.#limit.perMs * lockoutSlowdown(b.strikes)));
    b.at = now;
    if (b.tokens >= this.#limit.failures) this.#buckets.delete(source);
  }
}
