/** A request that arrives just when the announced wait ends must not be refused for float rounding. */
export const ROUNDING = 1e-9;

/**
 * Contract rate limits: a token bucket per contract and agent (each agent a contract covers
 * gets the contract's rate). Buckets survive policy reloads; a changed rate applies at once.
 */
export class RateBuckets {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #max: number;

  constructor(maxBuckets = 100_000) {
    this.#max = maxBuckets;
  }

  /** Takes one request from the bucket; false when the rate is spent. */
  take(key: string, requests: number, perMs: number, now: number): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { tokens: requests, at: now };
      this.#buckets.set(key, b);
    }
    b.tokens = Math.min(requests, b.tokens + ((now - b.at) * requests) / perMs);
    b.at = now;
    if (b.tokens < 1 - ROUNDING) return false;
    b.tokens -= 1;
    return true;
  }

  /** Milliseconds until the next request fits (whole, rounded up): the refusal's retry-after. */
  waitMs(key: string, requests: number, perMs: number): number {
    const b = this.#buckets.get(key);
    return b ? Math.max(0, Math.ceil(((1 - b.tokens) * perMs) / requests)) : 0;
  }
}
