// Failed operator tokens per source address, shared by every control-plane replica (migration
// 009): the same token bucket as proxy/src/identity/auth-failures.ts, kept in one row per source
// and updated under its row lock, so an address that guesses against one replica is locked out
// on all of them, and an admin lifts it once.
import type { Pool, PoolClient } from 'pg';
import { lockoutSlowdown } from '../../../../proxy/src/index.js';
import { inTransaction } from './transaction.js';

interface Row {
  tokens: number;
  at: Date;
  strikes: number;
}

export class SharedAuthFailures {
  constructor(
    private readonly pool: Pool,
    private readonly url: string,
    private readonly limit: { failures: number; perMs: number },
    private readonly now: () => number = Date.now,
  ) {}

  /** Always looked up: another replica may have locked the source. */
  readonly watching = true;

  #refilled(r: Row, now: number): number {
    return Math.min(this.limit.failures, r.tokens + ((now - r.at.getTime()) * this.limit.failures) / (this.limit.perMs * lockoutSlowdown(r.strikes)));
  }

  #wait(tokens: number, strikes: number): number {
    return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * this.limit.perMs * lockoutSlowdown(strikes)) / this.limit.failures);
  }

  async retryAfterMs(source: string): Promise<number> {
    if (this.limit.failures <= 0) return 0;
    const { rows } = await this.#read((c) => c.query<Row>('SELECT tokens, at, strikes FROM auth_failures WHERE source = $1', [source]));
    return rows[0] ? this.#wait(this.#refilled(rows[0], this.now()), rows[0].strikes) : 0;
  }

  /** Records a failure; true when it is the one that locked the source out. */
  async fail(source: string): Promise<boolean> {
    if (this.limit.failures <= 0) return false;
    return await inTransaction(this.pool, this.url, async (client) => {
      const now = this.now();
      // Inserted full, or locked as it is: the refill and the take below see no other replica's take in between.
      const { rows } = await client.query<Row>(
        'INSERT INTO auth_failures (source, tokens, at) VALUES ($1, $2, $3) ON CONFLICT (source) DO UPDATE SET source = EXCLUDED.source RETURNING tokens, at, strikes',
        [source, this.limit.failures, new Date(now)],
      );
      const before = this.#refilled(rows[0]!, now);
      const after = Math.max(0, before - 1);
      const locked = before >= 1 && after < 1;
      // A full bucket forgets earlier lockouts; each new one in a row doubles the next wait.
      const strikes = (before >= this.limit.failures ? 0 : rows[0]!.strikes) + (locked ? 1 : 0);
      await client.query('UPDATE auth_failures SET tokens = $2, at = $3, strikes = $4 WHERE source = $1', [source, after, new Date(now), strikes]);
      return locked;
    });
  }

  async lockedOut(): Promise<{ source: string; retryAfterMs: number }[]> {
    const now = this.now();
    const { rows } = await this.#read((c) => c.query<Row & { source: string }>('SELECT source, tokens, at, strikes FROM auth_failures WHERE tokens < 1 ORDER BY source'));
    return rows.map((r) => ({ source: r.source, retryAfterMs: this.#wait(this.#refilled(r, now), r.strikes) })).filter((l) => l.retryAfterMs > 0);
  }

  async clear(source: string): Promise<boolean> {
    return (await this.#read((c) => c.query('DELETE FROM auth_failures WHERE source = $1', [source]))).rowCount! > 0;
  }

  /** Every statement through inTransaction: a database that went away is DatabaseUnreachableError (503), as for the store. */
  #read<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, this.url, fn);
  }
}
