// The connection pool of the PostgreSQL store: built from a postgres:// URL, checked once at
// start, so a wrong URL or a server that is down is refused at start with the URL named.
import { Pool, type PoolConfig } from 'pg';
import { DatabaseUnreachableError, DatabaseUrlError } from './errors.js';

/** The URL as it may appear in logs and errors: no password, in the userinfo or in the query. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return '<not a URL>';
  }
  u.password = '';
  u.searchParams.delete('password');
  return u.toString();
}

/** Parses the URL far enough to refuse what the client would misread (another scheme, no host). */
export function checkDatabaseUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new DatabaseUrlError('the database URL is not a URL: expected postgres://user:password@host:port/database');
  }
  if (u.protocol !== 'postgres:' && u.protocol !== 'postgresql:') {
    throw new DatabaseUrlError(`the database URL ${redactUrl(url)} has scheme ${u.protocol}, expected postgres:// or postgresql://`);
  }
  if (u.hostname === '' && !u.searchParams.has('host')) throw new DatabaseUrlError(`the database URL ${redactUrl(url)} names no host`);
  return u;
}

export interface PoolOptions {
  /** Connections held at most (default 10). */
  max?: number;
  /** How long a connection attempt may take (default 5000 ms). */
  connectTimeoutMs?: number;
  /** How long a query may wait for its answer (default 5000 ms): a hung server fails a call instead of holding it. */
  queryTimeoutMs?: number;
}

/** A pool whose connections were tried once: throws DatabaseUnreachableError naming the URL (without its password). */
export async function openPool(url: string, options: PoolOptions = {}): Promise<Pool> {
  checkDatabaseUrl(url);
  const config: PoolConfig = {
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    // Client side: a server that stops answering (hung, partitioned) fails the query after this,
    // and the connection is dropped from the pool (an answer arriving later would be misread).
    query_timeout: options.queryTimeoutMs ?? 5000,
    keepAlive: true,
  };
  const pool = new Pool(config);
  // An idle connection the server drops (restart, failover) is removed from the pool and
  // replaced on the next query; without a listener the error would end the process.
  pool.on('error', () => {});
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => {});
    throw unreachable(url, err);
  }
  return pool;
}

export function unreachable(url: string, err: unknown): DatabaseUnreachableError {
  const why = err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code || err.name : String(err);
  const safe = redactUrl(url);
  return new DatabaseUnreachableError(`cannot connect to PostgreSQL at ${safe}: ${why}`, safe);
}
