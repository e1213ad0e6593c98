import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { AgentLevel, Budget, BudgetScope, KillScope, KillSwitch, Level, SpendRow, VirtualKey } from '../../../proxy/src/index.js';
import { roleOf, type Role } from '../services/roles.js';
import type { ApprovalColumns, ApprovalRecord, ApprovalStatus, ApprovedPinRecord, OperatorCertificate, OperatorToken, PinProposalRecord, SpendDimension, SpendTotal, Store } from './store.js';

const DIMENSION_COLUMN: Record<SpendDimension, string> = { team: 'team', agent: 'agent', key: 'key_id', cost_center: 'cost_center', function: 'fn', model: 'model' };

const SCHEMA = `
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  agent TEXT NOT NULL,
  team TEXT NOT NULL,
  models TEXT NOT NULL,
  providers TEXT NOT NULL,
  cost_center TEXT,
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
CREATE TABLE IF NOT EXISTS agent_levels (
  agent TEXT PRIMARY KEY,
  level TEXT NOT NULL,
  set_by TEXT NOT NULL,
  reason TEXT,
  since INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS budgets (
  scope TEXT NOT NULL,
  target TEXT NOT NULL,
  daily REAL,
  weekly REAL,
  monthly REAL,
  set_by TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (scope, target)
);
CREATE TABLE IF NOT EXISTS spend (
  day TEXT NOT NULL,
  team TEXT NOT NULL,
  agent TEXT NOT NULL,
  key_id TEXT NOT NULL,
  cost_center TEXT NOT NULL,
  fn TEXT NOT NULL,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  usd REAL NOT NULL,
  requests INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  PRIMARY KEY (day, team, agent, key_id, cost_center, fn, provider, model)
);
CREATE TABLE IF NOT EXISTS approvals (
  id TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  agent TEXT NOT NULL,
  team TEXT NOT NULL,
  key_id TEXT NOT NULL,
  run TEXT,
  contract TEXT NOT NULL,
  rule TEXT NOT NULL,
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  decided_at INTEGER,
  decided_by TEXT,
  reason TEXT
);
CREATE INDEX IF NOT EXISTS approvals_by_status ON approvals (status, created_at);
CREATE TABLE IF NOT EXISTS mcp_pin_proposals (
  approval_id TEXT PRIMARY KEY,
  server TEXT NOT NULL,
  tool TEXT NOT NULL,
  model TEXT NOT NULL,
  structure TEXT NOT NULL,
  read_only INTEGER,
  destructive INTEGER,
  change TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS mcp_pins (
  server TEXT NOT NULL,
  tool TEXT NOT NULL,
  model TEXT NOT NULL,
  structure TEXT NOT NULL,
  read_only INTEGER,
  destructive INTEGER,
  approval_id TEXT NOT NULL,
  approved_by TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  PRIMARY KEY (server, tool)
);
CREATE TABLE IF NOT EXISTS operator_token_tombstones (
  hash TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  deleted_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS operator_certificates (
  serial TEXT PRIMARY KEY,
  name TEXT,
  role TEXT,
  team TEXT,
  not_after INTEGER,
  issued_at INTEGER,
  issued_by TEXT,
  revoked_at INTEGER,
  revoked_by TEXT,
  reason TEXT
);
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
  cost_center: string | null;
  expires_at: number | null;
  revoked_at: number | null;
  created_at: number;
}

interface TokenRow {
  name: string;
  team: string | null;
  role: Role | null;
  expires_at: number | null;
  created_at: number;
}

interface BudgetRow {
  scope: BudgetScope;
  target: string;
  daily: number | null;
  weekly: number | null;
  monthly: number | null;
  set_by: string;
  updated_at: number;
}

interface KillRow {
  scope: KillScope;
  target: string;
  reason: string | null;
  engaged_by: string;
  created_at: number;
}

type ApprovalRow = ApprovalColumns<number>;

function toApproval(r: ApprovalRow): ApprovalRecord {
  return {
    id: r.id,
    status: r.status,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    requestId: r.request_id,
    agent: r.agent,
    team: r.team,
    keyId: r.key_id,
    run: r.run,
    contract: r.contract,
    rule: r.rule,
    kind: r.kind,
    subject: r.subject,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    reason: r.reason,
  };
}

function toToken(r: TokenRow): OperatorToken {
  return { name: r.name, team: r.team, role: roleOf(r), expiresAt: r.expires_at ?? null, createdAt: r.created_at };
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
    costCenter: r.cost_center ?? null,
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
    // State directories from before cost centers existed get the column added in place.
    const columns = this.#db.prepare('PRAGMA table_info(keys)').all() as { name: string }[];
    if (!columns.some((c) => c.name === 'cost_center')) this.#db.exec('ALTER TABLE keys ADD COLUMN cost_center TEXT');
    // ... and before roles: their tokens keep the role their team implies (roleOf).
    const tokenColumns = this.#db.prepare('PRAGMA table_info(operator_tokens)').all() as { name: string }[];
    if (!tokenColumns.some((c) => c.name === 'role')) this.#db.exec('ALTER TABLE operator_tokens ADD COLUMN role TEXT');
    if (!tokenColumns.some((c) => c.name === 'expires_at')) this.#db.exec('ALTER TABLE operator_tokens ADD COLUMN expires_at INTEGER');
    this.#insertKey = this.#db.prepare(
      'INSERT INTO keys (id, hash, prefix, agent, team, models, providers, cost_center, expires_at, revoked_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.#updateKey = this.#db.prepare('UPDATE keys SET hash = ?, prefix = ?, models = ?, providers = ?, expires_at = ?, revoked_at = ? WHERE id = ?');
  }

  insertKey(k: VirtualKey): void {
    this.#insertKey.run(k.id, k.hash, k.prefix, k.agent, k.team, JSON.stringify(k.models), JSON.stringify(k.providers), k.costCenter, k.expiresAt, k.revokedAt, k.createdAt);
  }

  updateKey(k: VirtualKey): void {
    this.#updateKey.run(k.hash, k.prefix, JSON.stringify(k.models), JSON.stringify(k.providers), k.expiresAt, k.revokedAt, k.id);
  }

  listKeys(): VirtualKey[] {
    return (this.#db.prepare('SELECT * FROM keys ORDER BY created_at, id').all() as unknown as KeyRow[]).map(toKey);
  }

  addOperatorToken(hash: string, name: string, team: string | null, role: Role, expiresAt: number | null = null): void {
    this.#db.prepare('INSERT OR REPLACE INTO operator_tokens (hash, name, team, role, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)').run(hash, name, team, role, expiresAt, Date.now());
  }

  renameOperatorToken(name: string, newName: string, expiresAt: number | null): boolean {
    return Number(this.#db.prepare('UPDATE operator_tokens SET name = ?, expires_at = ? WHERE name = ?').run(newName, expiresAt, name).changes) > 0;
  }

  findOperatorToken(hash: string): OperatorToken | null {
    const row = this.#db.prepare('SELECT name, team, role, expires_at, created_at FROM operator_tokens WHERE hash = ?').get(hash) as TokenRow | undefined;
    return row ? toToken(row) : null;
  }

  listOperatorTokens(): OperatorToken[] {
    return (this.#db.prepare('SELECT name, team, role, expires_at, created_at FROM operator_tokens ORDER BY created_at, name').all() as unknown as TokenRow[]).map(toToken);
  }

  deleteOperatorToken(name: string): boolean {
    const row = this.#db.prepare('SELECT hash FROM operator_tokens WHERE name = ?').get(name) as { hash: string } | undefined;
    if (!row) return false;
    this.#db.prepare('INSERT OR REPLACE INTO operator_token_tombstones (hash, name, deleted_at) VALUES (?, ?, ?)').run(row.hash, name, Date.now());
    return Number(this.#db.prepare('DELETE FROM operator_tokens WHERE name = ?').run(name).changes) > 0;
  }

  findRevokedToken(hash: string): { name: string; deletedAt: number } | null {
    const row = this.#db.prepare('SELECT name, deleted_at FROM operator_token_tombstones WHERE hash = ?').get(hash) as { name: string; deleted_at: number } | undefined;
    return row ? { name: row.name, deletedAt: Number(row.deleted_at) } : null;
  }

  insertApproval(a: ApprovalRecord): void {
    this.#db
      .prepare(
        'INSERT INTO approvals (id, status, created_at, expires_at, request_id, agent, team, key_id, run, contract, rule, kind, subject, decided_at, decided_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(a.id, a.status, a.createdAt, a.expiresAt, a.requestId, a.agent, a.team, a.keyId, a.run, a.contract, a.rule, a.kind, a.subject, a.decidedAt, a.decidedBy, a.reason);
  }

  decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string | null, reason: string | null, at: number): boolean {
    const r = this.#db.prepare("UPDATE approvals SET status = ?, decided_by = ?, reason = ?, decided_at = ? WHERE id = ? AND status = 'pending'").run(status, by, reason, at, id);
    return Number(r.changes) > 0;
  }

  getApproval(id: string): ApprovalRecord | null {
    const row = this.#db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as ApprovalRow | undefined;
    return row ? toApproval(row) : null;
  }

  listApprovals(status: ApprovalStatus | null, team: string | null, limit: number): ApprovalRecord[] {
    const rows = this.#db
      .prepare('SELECT * FROM approvals WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR team = ?2) ORDER BY created_at DESC, id LIMIT ?3')
      .all(status, team, limit);
    return (rows as unknown as ApprovalRow[]).map(toApproval);
  }

  expirePendingApprovals(at: number): number {
    return Number(this.#db.prepare("UPDATE approvals SET status = 'expired', reason = 'the agent restarted while it waited', decided_at = ? WHERE status = 'pending' AND kind != 'mcp-pin'").run(at).changes);
  }

  insertPinProposal(p: PinProposalRecord): void {
    this.#db
      .prepare('INSERT INTO mcp_pin_proposals (approval_id, server, tool, model, structure, read_only, destructive, change) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.approvalId, p.server, p.tool, p.model, p.structure, flag(p.readOnly), flag(p.destructive), p.change);
  }

  getPinProposal(approvalId: string): PinProposalRecord | null {
    const row = this.#db.prepare('SELECT * FROM mcp_pin_proposals WHERE approval_id = ?').get(approvalId) as PinProposalRow | undefined;
    return row ? toPinProposal(row) : null;
  }

  listPinProposals(): (PinProposalRecord & { status: ApprovalStatus })[] {
    const rows = this.#db.prepare('SELECT p.*, a.status FROM mcp_pin_proposals p JOIN approvals a ON a.id = p.approval_id ORDER BY a.created_at, p.approval_id').all() as unknown as (PinProposalRow & { status: ApprovalStatus })[];
    return rows.map((r) => ({ ...toPinProposal(r), status: r.status }));
  }

  putApprovedPin(p: ApprovedPinRecord): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO mcp_pins (server, tool, model, structure, read_only, destructive, approval_id, approved_by, approved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(p.server, p.tool, p.model, p.structure, flag(p.readOnly), flag(p.destructive), p.approvalId, p.approvedBy, p.approvedAt);
  }

  listApprovedPins(): ApprovedPinRecord[] {
    const rows = this.#db.prepare('SELECT * FROM mcp_pins ORDER BY server, tool').all() as unknown as (Omit<PinProposalRow, 'change'> & { approved_by: string; approved_at: number })[];
    return rows.map((r) => ({ server: r.server, tool: r.tool, model: r.model, structure: r.structure, readOnly: unflag(r.read_only), destructive: unflag(r.destructive), approvalId: r.approval_id, approvedBy: r.approved_by, approvedAt: r.approved_at }));
  }

  putOperatorCertificate(c: OperatorCertificate): void {
    this.#db
      .prepare('INSERT INTO operator_certificates (serial, name, role, team, not_after, issued_at, issued_by, revoked_at, revoked_by, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(c.serial, c.name, c.role, c.team, c.notAfter, c.issuedAt, c.issuedBy, c.revokedAt, c.revokedBy, c.reason);
  }

  revokeOperatorCertificate(serial: string, at: number, by: string, reason: string | null): boolean {
    const changed = this.#db.prepare('UPDATE operator_certificates SET revoked_at = ?, revoked_by = ?, reason = ? WHERE serial = ? AND revoked_at IS NULL').run(at, by, reason, serial).changes;
    if (Number(changed) > 0) return true;
    const inserted = this.#db.prepare('INSERT OR IGNORE INTO operator_certificates (serial, revoked_at, revoked_by, reason) VALUES (?, ?, ?, ?)').run(serial, at, by, reason).changes;
    return Number(inserted) > 0;
  }

  listOperatorCertificates(): OperatorCertificate[] {
    const rows = this.#db.prepare('SELECT * FROM operator_certificates ORDER BY COALESCE(issued_at, revoked_at), serial').all() as unknown as CertificateRow[];
    return rows.map(toOperatorCertificate);
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

  putAgentLevel(l: AgentLevel): void {
    if (l.level === 'normal') this.#db.prepare('DELETE FROM agent_levels WHERE agent = ?').run(l.agent);
    else this.#db.prepare('INSERT OR REPLACE INTO agent_levels (agent, level, set_by, reason, since) VALUES (?, ?, ?, ?, ?)').run(l.agent, l.level, l.setBy, l.reason, l.since);
  }

  listAgentLevels(): AgentLevel[] {
    const rows = this.#db.prepare('SELECT agent, level, set_by, reason, since FROM agent_levels ORDER BY agent').all() as { agent: string; level: Level; set_by: string; reason: string | null; since: number }[];
    return rows.map((r) => ({ agent: r.agent, level: r.level, setBy: r.set_by, reason: r.reason, since: r.since }));
  }

  putBudget(b: Budget): void {
    this.#db
      .prepare('INSERT OR REPLACE INTO budgets (scope, target, daily, weekly, monthly, set_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(b.scope, b.target, b.limits.daily, b.limits.weekly, b.limits.monthly, b.by, b.updatedAt);
  }

  deleteBudget(scope: BudgetScope, target: string): boolean {
    return Number(this.#db.prepare('DELETE FROM budgets WHERE scope = ? AND target = ?').run(scope, target).changes) > 0;
  }

  listBudgets(): Budget[] {
    const rows = this.#db.prepare('SELECT * FROM budgets ORDER BY scope, target').all() as unknown as BudgetRow[];
    return rows.map((r) => ({ scope: r.scope, target: r.target, limits: { daily: r.daily, weekly: r.weekly, monthly: r.monthly }, by: r.set_by, updatedAt: r.updated_at }));
  }

  addSpend(rows: SpendRow[]): void {
    if (rows.length === 0) return;
    const upsert = this.#db.prepare(`INSERT INTO spend (day, team, agent, key_id, cost_center, fn, provider, model, usd, requests, input_tokens, output_tokens)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (day, team, agent, key_id, cost_center, fn, provider, model) DO UPDATE SET
        usd = usd + excluded.usd, requests = requests + excluded.requests,
        input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens`);
    this.transaction(() => {
      for (const r of rows) upsert.run(r.day, r.team, r.agent, r.key, r.costCenter ?? '', r.fn ?? '', r.provider, r.model, r.usd, r.requests, r.inputTokens, r.outputTokens);
    });
  }

  spendBy(dimension: SpendDimension, fromDay: string, toDay: string, team: string | null): SpendTotal[] {
    const column = DIMENSION_COLUMN[dimension];
    const rows = this.#db
      .prepare(
        `SELECT ${column} AS value, sum(usd) AS usd, sum(requests) AS requests, sum(input_tokens) AS input_tokens, sum(output_tokens) AS output_tokens
         FROM spend WHERE day >= ? AND day <= ? AND (? IS NULL OR team = ?) GROUP BY ${column} ORDER BY usd DESC, value`,
      )
      .all(fromDay, toDay, team, team) as { value: string; usd: number; requests: number; input_tokens: number; output_tokens: number }[];
    return rows.map((r) => ({ value: r.value === '' ? null : r.value, usd: r.usd, requests: r.requests, inputTokens: r.input_tokens, outputTokens: r.output_tokens }));
  }

  /**
   * One transaction around `fn`. An async `fn` (the services' ServiceStore transactions) commits
   * when its promise resolves; its awaits on this store's synchronous operations take only
   * microtasks, so no I/O callback or timer (another request, a flush) runs between BEGIN and COMMIT.
   */
  transaction<T>(fn: (tx: this) => Promise<T>): Promise<T>;
  transaction<T>(fn: (tx: this) => T): T;
  transaction<T>(fn: (tx: this) => T | Promise<T>): T | Promise<T> {
    this.#db.exec('BEGIN IMMEDIATE');
    let out: T | Promise<T>;
    try {
      out = fn(this);
    } catch (err) {
      this.#db.exec('ROLLBACK');
      throw err;
    }
    if (!(out instanceof Promise)) {
      this.#db.exec('COMMIT');
      return out;
    }
    return out.then(
      (value) => {
        this.#db.exec('COMMIT');
        return value;
      },
      (err: unknown) => {
        this.#db.exec('ROLLBACK');
        throw err;
      },
    );
  }

  countOperatorTokens(): number {
    return (this.#db.prepare('SELECT count(*) AS n FROM operator_tokens').get() as { n: number }).n;
  }

  close(): void {
    this.#db.close();
  }
}

interface PinProposalRow {
  approval_id: string;
  server: string;
  tool: string;
  model: string;
  structure: string;
  read_only: number | null;
  destructive: number | null;
  change: 'changed' | 'new';
}

const flag = (b: boolean | null): number | null => (b === null ? null : b ? 1 : 0);
const unflag = (n: number | null): boolean | null => (n === null ? null : n === 1);

function toPinProposal(r: PinProposalRow): PinProposalRecord {
  return { approvalId: r.approval_id, server: r.server, tool: r.tool, model: r.model, structure: r.structure, readOnly: unflag(r.read_only), destructive: unflag(r.destructive), change: r.change };
}

interface CertificateRow {
  serial: string;
  name: string | null;
  role: string | null;
  team: string | null;
  not_after: number | null;
  issued_at: number | null;
  issued_by: string | null;
  revoked_at: number | null;
  revoked_by: string | null;
  reason: string | null;
}

function toOperatorCertificate(r: CertificateRow): OperatorCertificate {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return { serial: r.serial, name: r.name, role: r.role as OperatorCertificate['role'], team: r.team, notAfter: n(r.not_after), issuedAt: n(r.issued_at), issuedBy: r.issued_by, revokedAt: n(r.revoked_at), revokedBy: r.revoked_by, reason: r.reason };
}
