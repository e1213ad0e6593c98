import type { Pool, PoolClient } from 'pg';
import { unreachable } from './pool.js';

/**
 * Runs `fn` as one transaction on one pooled connection: it commits, or it rolls back and
 * throws. A commit that fails (connection lost) throws too: the caller must not acknowledge
 * what it cannot know was committed. `url` names the database when no connection can be had.
 */
export async function inTransaction<T>(pool: Pool, url: string, fn: (client: PoolClient) => Promise<T>): Promise<T> {
  let client: PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw unreachable(url, err);
  }
  // A connection whose rollback failed is in an unknown state: the pool must close it, not reuse it.
  let broken: Error | undefined;
  // A checked-out client that loses its server emits 'error' (the pool listens only to idle
  // ones): unheard, it would end the process; the query in flight rejects with it as well.
  const onError = (err: Error) => {
    broken = err;
  };
  client.on('error', onError);
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}
