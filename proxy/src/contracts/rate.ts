/** A request that arrives just when the announced wait ends must not be refused for float rounding. */
export const ROUNDING = 1e-9;

/**
 * Contract rate limits: a token bucket per contract and agent (each agent a contract covers
 * gets the contract's rate). Buckets survive policy reloads; a changed rate applies at once.
 */
export class RateBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #max: number;
  /** Told of each request taken here (not merged): a followed node shares it with the fleet. */
  onTake: ((key: string, requests: number, perMs: number, now: number) => void) | null = null;

  constructor(maxBuckets = 100_000) {
    this.#max = maxBuckets;
  }

  /** Takes one request from the bucket; false when the rate is spent. */
  take(key: string, requests: number, perMs: number, now: number): boolean {
    const b = this.#refilled(key, requests, perMs, now);
    if (b.tokens < 1 - ROUNDING) return false;
    b.tokens -= 1;
    this.onTake?.(key, requests, perMs, now);
    return true;
  }

  /**
   * A request another node of the fleet took from the same contract's rate: taken here too,
   * even below empty (the wait then says how long the fleet must hold back).
   */
  merge(key: string, requests: number, perMs: number, now: number): void {
    const b = this.#refilled(key, requests, perMs, now);
    b.tokens = Math.max(-requests, b.tokens - 1);
  }

  #refilled(key: string, requests: number, perMs: number, now: number): { tokens: number; at: number } {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: requests, at: now };
      this.#buckets.set(key, b);
    }
    // A merged request stamped a little earlier than the last one here refills nothing.
    b.tokens = Math.min(requests, b.tokens + (Math.max(0, now - b.at) * requests) / perMs);
    b.at = Math.max(b.at, now);
    return b;
  }

  /** Milliseconds until the next request fits (whole, rounded up): the refusal's retry-after. */
  waitMs(key: string, requests: number, perMs: number): number {
    const b = this.#buckets.get(key);
    return b ? Math.max(0, Math.ceil(((1 - b.tokens) * perMs) / requests)) : 0;
  }
}
