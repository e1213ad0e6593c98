// The fleet change log: what a transaction changed, appended in that transaction, announced by
// NOTIFY when it commits. Nodes' deltas and replicas' caches follow it by version.
import type { PoolClient } from 'pg';

/** The NOTIFY channel; the payload is the newest committed version, as decimal text. */
export const CHANGES_CHANNEL = 'altrace_changes';

/**
 * What changed, and the payload that says to what. `*.put` carries the whole new state of the
 * thing (an agent level `normal` means it has no level any more); `*.delete` carries its identity.
 * Operator tokens are identified by name (adding a token under a taken name replaces it).
 */
export type ChangeKind =
  | 'key.put'
  | 'token.put'
  | 'token.delete'
  | 'kill.put'
  | 'kill.delete'
  | 'level.put'
  | 'budget.put'
  | 'budget.delete'
  | 'approval.put'
  /** An MCP tool pin an operator approved (an mcp-pin approval): the newest per server and tool. */
  | 'mcp_pin.put'
  /** The policy and its contracts an operator pushed (a PolicyBundle with its digest): kept only here. */
  | 'policy.put';

export interface Change {
  /** Gapless and in commit order: 1, 2, 3 ... */
  version: number;
  kind: ChangeKind;
  payload: unknown;
  /** When it was written in its transaction (just before the commit), epoch ms. */
  at: number;
}

/**
 * A transaction's share of the log. The first write locks change_head, and the lock is held to
 * commit: writers queue there, so versions follow commit order and nobody reads version n
 * before n-1 is visible. Writers take it before touching any other row, so they cannot deadlock.
 */
export class ChangeRecorder {
  #head: number | null = null;
  #appended = false;

  constructor(private readonly client: PoolClient) {}

  /** Call before a write: from here to commit this transaction is the log's only writer. */
  async lock(): Promise<void> {
    if (this.#head !== null) return;
    const r = await this.client.query<{ version: string }>('SELECT version FROM change_head FOR UPDATE');
    this.#head = Number(r.rows[0]!.version);
  }

  async append(kind: ChangeKind, payload: unknown): Promise<void> {
    await this.lock();
    this.#head! += 1;
    this.#appended = true;
    // Stringified here: pg would send a JS array as a PostgreSQL array, not as JSON.
    // Stamped when written (clock_timestamp), not when the transaction began (now()): what nodes
    // measure their propagation from should not include the writer's lock wait.
    await this.client.query('INSERT INTO changes (version, kind, payload, at) VALUES ($1, $2, $3, clock_timestamp())', [this.#head, kind, JSON.stringify(payload)]);
  }

  /** Before COMMIT: moves the head and queues the NOTIFY, which PostgreSQL delivers only if the commit succeeds. */
  async finish(): Promise<void> {
    if (!this.#appended) return;
    await this.client.query('UPDATE change_head SET version = $1', [this.#head]);
    await this.client.query('SELECT pg_notify($1, $2)', [CHANGES_CHANNEL, String(this.#head)]);
  }
}

export async function readChanges(db: { query: PoolClient['query'] }, since: number, limit: number): Promise<Change[]> {
  const r = await db.query<{ version: string; kind: ChangeKind; payload: unknown; at: Date }>(
    'SELECT version, kind, payload, at FROM changes WHERE version > $1 ORDER BY version LIMIT $2',
    [since, limit],
  );
  return r.rows.map((row) => ({ version: Number(row.version), kind: row.kind, payload: row.payload, at: row.at.getTime() }));
}

export async function readHead(db: { query: PoolClient['query'] }): Promise<number> {
  const r = await db.query<{ version: string }>('SELECT version FROM change_head');
  return Number(r.rows[0]!.version);
}
