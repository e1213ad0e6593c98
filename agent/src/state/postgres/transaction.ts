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
    // The server went away or stopped answering: the connection is dropped, not rolled back (a
    // ROLLBACK would wait as long again), and the caller is told which database, not a driver
    // message. The server rolls back what it had not committed when it sees the connection go.
    if (lostConnection(err)) {
      broken = err as Error;
      throw unreachable(url, err);
    }
    await client.query('ROLLBACK').catch((e: unknown) => {
      broken = e instanceof Error ? e : new Error(String(e));
    });
    throw err;
  } finally {
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** A failure of the connection rather than of the statement: it says nothing about the data. */
export function lostConnection(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  if (!e) return false;
  if (e.code && ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08006', '08003', '08001'].includes(e.code)) return true;
  return /Query read timeout|Connection terminated|connection timeout/i.test(e.message ?? '');
}

