import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { KillScope, KillSwitch, VirtualKey } from '../../../proxy/src/index.js';
import type { OperatorToken, Store } from './store.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  agent TEXT NOT NULL,
  team TEXT NOT NULL,
  models TEXT NOT NULL,
  providers TEXT NOT NULL,
  expires_at INTEGER,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_tokens (
  hash TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  team TEXT,
  created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS operator_tokens_name ON operator_tokens (name);
CREATE TABLE IF NOT EXISTS kill_switches (
  scope TEXT NOT NULL,
  target TEXT NOT NULL,
  reason TEXT,
  engaged_by TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (scope, target)
);
`;

interface KeyRow {
  id: string;
  hash: string;
  prefix: string;
  agent: string;
  team: string;
  models: string;
  providers: string;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

interface TokenRow {
  name: string;
  team: string | null;
  created_at: number;
}

interface KillRow {
  scope: KillScope;
  target: string;
  reason: string | null;
  engaged_by: string;
  created_at: number;
}

function toToken(r: TokenRow): OperatorToken {
  return { name: r.name, team: r.team, createdAt: r.created_at };
}

function toKey(r: KeyRow): VirtualKey {
  return {
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    agent: r.agent,
    team: r.team,
    models: JSON.parse(r.models) as string[],
    providers: JSON.parse(r.providers) as string[],
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
  };
}

/** The embedded store: SQLite in the state directory, WAL with synchronous=FULL, so a commit is an fsync. */
export class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #insertKey: StatementSync;
  readonly #updateKey: StatementSync;

  constructor(stateDir: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.#db = new DatabaseSync(join(stateDir, 'state.db'));
    this.#db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;');
    this.#db.exec(SCHEMA);
    this.#insertKey = this.#db.prepare(
      'INSERT INTO keys (id, hash, prefix, agent, team, models, providers, expires_at, revoked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#updateKey = this.#db.prepare('UPDATE keys SET hash = ?, prefix = ?, models = ?, providers = ?, expires_at = ?, revoked_at = ? WHERE id = ?');
  }

  insertKey(k: VirtualKey): void {
    this.#insertKey.run(k.id, k.hash, k.prefix, k.agent, k.team, JSON.stringify(k.models), JSON.stringify(k.providers), k.expiresAt, k.revokedAt, k.createdAt);
  }

  updateKey(k: VirtualKey): void {
    this.#updateKey.run(k.hash, k.prefix, JSON.stringify(k.models), JSON.stringify(k.providers), k.expiresAt, k.revokedAt, k.id);
  }

  listKeys(): VirtualKey[] {
    return (this.#db.prepare('SELECT * FROM keys ORDER BY created_at, id').all() as unknown as KeyRow[]).map(toKey);
  }

  addOperatorToken(hash: string, name: string, team: string | null): void {
    this.#db.prepare('INSERT OR REPLACE INTO operator_tokens (hash, name, team, created_at) VALUES (?, ?, ?, ?)').run(hash, name, team, Date.now());
  }

  findOperatorToken(hash: string): OperatorToken | null {
    const row = this.#db.prepare('SELECT name, team, created_at FROM operator_tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    return row ? toToken(row) : null;
  }

  listOperatorTokens(): OperatorToken[] {
    return (this.#db.prepare('SELECT name, team, created_at FROM operator_tokens ORDER BY created_at, name').all() as unknown as TokenRow[]).map(toToken);
  }

  deleteOperatorToken(name: string): boolean {
    return Number(this.#db.prepare('DELETE FROM operator_tokens WHERE name = ?').run(name).changes) > 0;
  }

  putKill(k: KillSwitch): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO kill_switches (scope, target, reason, engaged_by, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(k.scope, k.target, k.reason, k.by, k.createdAt);
  }

  deleteKill(scope: KillScope, target: string): boolean {
    return Number(this.#db.prepare('DELETE FROM kill_switches WHERE scope = ? AND target = ?').run(scope, target).changes) > 0;
  }

  listKills(): KillSwitch[] {
    const rows = this.#db.prepare('SELECT scope, target, reason, engaged_by, created_at FROM kill_switches ORDER BY created_at').all() as unknown as KillRow[];
    return rows.map((r) => ({ scope: r.scope, target: r.target, reason: r.reason, by: r.engaged_by, createdAt: r.created_at }));
  }

  transaction<T>(fn: () => T): T {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const out = fn();
      this.#db.exec('COMMIT');
      return out;
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  countOperatorTokens(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM operator_tokens').get() as { n: number }).n;
  }

  close(): void {
    this.#db.close();
  }
}
