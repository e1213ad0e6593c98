// The Store's operations on one PostgreSQL transaction. Each write locks the change log first
// (see ChangeRecorder) and appends what it changed; a write that changed nothing appends nothing.
import type { PoolClient } from 'pg';
import type { AgentLevel, Budget, BudgetScope, KillScope, KillSwitch, SpendRow, VirtualKey } from '../../../../proxy/src/index.js';
import type { ApprovalRecord, ApprovalStatus, ApprovedPinRecord, OperatorCertificate, OperatorToken, PinProposalRecord, SpendDimension, SpendTotal, Store } from '../store.js';
import type { ChangeRecorder } from './changes.js';
import type { Role } from '../../services/roles.js';
import { toApproval, toBudget, toDate, toKey, toKill, toLevel, toToken, type ApprovalRow, type BudgetRow, type KeyRow, type KillRow, type LevelRow, type TokenRow } from './rows.js';

type Async<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never };

/** The Store interface's operations, each returning a promise (the type keeps PgStore in step with Store). */
export type StoreOperations = Async<Omit<Store, 'transaction' | 'close'>>;

const DIMENSION_COLUMN: Record<SpendDimension, string> = { team: 'team', agent: 'agent', key: 'key_id', cost_center: 'cost_center', function: 'fn', model: 'model' };

// Text sorts byte-wise, as in SQLite: the order must not depend on the database's collation.
const C = 'COLLATE "C"';

export class PgOperations implements StoreOperations {
  constructor(
    private readonly client: PoolClient,
    private readonly changes: ChangeRecorder,
  ) {}

  async #query<R extends object>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.client.query<R>(sql, params)).rows;
  }

  async insertKey(k: VirtualKey): Promise<void> {
    await this.changes.lock();
    const [row] = await this.#query<KeyRow>(
      `INSERT INTO keys (id, hash, prefix, agent, team, models, providers, cost_center, expires_at, revoked_at, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING *`,
      [k.id, k.hash, k.prefix, k.agent, k.team, k.models, k.providers, k.costCenter, toDate(k.expiresAt), toDate(k.revokedAt), toDate(k.createdAt)],
    );
    await this.changes.append('key.put', toKey(row!));
  }

  async updateKey(k: VirtualKey): Promise<void> {
    await this.changes.lock();
    const [row] = await this.#query<KeyRow>(
      'UPDATE keys SET hash = $1, prefix = $2, models = $3, providers = $4, expires_at = $5, revoked_at = $6 WHERE id = $7 RETURNING *',
      [k.hash, k.prefix, k.models, k.providers, toDate(k.expiresAt), toDate(k.revokedAt), k.id],
    );
    if (row) await this.changes.append('key.put', toKey(row));
  }

  async listKeys(): Promise<VirtualKey[]> {
    return (await this.#query<KeyRow>(`SELECT * FROM keys ORDER BY created_at, id ${C}`)).map(toKey);
  }

  async addOperatorToken(hash: string, name: string, team: string | null, role: Role, expiresAt: number | null = null): Promise<void> {
    await this.changes.lock();
    // As SQLite's INSERT OR REPLACE: a token under a taken name (or hash) replaces the old one.
    await this.#query('DELETE FROM operator_tokens WHERE hash = $1 OR name = $2', [hash, name]);
    const [row] = await this.#query<TokenRow>('INSERT INTO operator_tokens (hash, name, team, role, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *', [hash, name, team, role, toDate(expiresAt), new Date()]);
    await this.changes.append('token.put', { hash: row!.hash, ...toToken(row!) });
  }

  async renameOperatorToken(name: string, newName: string, expiresAt: number | null): Promise<boolean> {
    await this.changes.lock();
    const [row] = await this.#query<TokenRow>('UPDATE operator_tokens SET name = $2, expires_at = $3 WHERE name = $1 RETURNING *', [name, newName, toDate(expiresAt)]);
    if (!row) return false;
    // Nodes key tokens by their hash: the same hash put again carries the new name and expiry.
    await this.changes.append('token.put', { hash: row.hash, ...toToken(row) });
    return true;
  }

  async findOperatorToken(hash: string): Promise<OperatorToken | null> {
    const [row] = await this.#query<TokenRow>('SELECT * FROM operator_tokens WHERE hash = $1', [hash]);
    return row ? toToken(row) : null;
  }

  async listOperatorTokens(): Promise<OperatorToken[]> {
    return (await this.#query<TokenRow>(`SELECT * FROM operator_tokens ORDER BY created_at, name ${C}`)).map(toToken);
  }

  async deleteOperatorToken(name: string): Promise<boolean> {
    await this.changes.lock();
    const rows = await this.#query<{ hash: string }>('DELETE FROM operator_tokens WHERE name = $1 RETURNING hash', [name]);
    if (rows.length > 0) {
      await this.#query('INSERT INTO operator_token_tombstones (hash, name, deleted_at) VALUES ($1, $2, now()) ON CONFLICT (hash) DO UPDATE SET name = EXCLUDED.name, deleted_at = EXCLUDED.deleted_at', [rows[0]!.hash, name]);
      await this.changes.append('token.delete', { name });
    }
    return rows.length > 0;
  }

  async findRevokedToken(hash: string): Promise<{ name: string; deletedAt: number } | null> {
    const [row] = await this.#query<{ name: string; deleted_at: Date }>('SELECT name, deleted_at FROM operator_token_tombstones WHERE hash = $1', [hash]);
    return row ? { name: row.name, deletedAt: row.deleted_at.getTime() } : null;
  }

  async countOperatorTokens(): Promise<number> {
    const [row] = await this.#query<{ n: number }>('SELECT count(*)::int AS n FROM operator_tokens');
    return row!.n;
  }

  async putKill(k: KillSwitch): Promise<void> {
    await this.changes.lock();
    const [row] = await this.#query<KillRow>(
      `INSERT INTO kill_switches (scope, target, reason, engaged_by, created_at) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (scope, target) DO UPDATE SET reason = excluded.reason, engaged_by = excluded.engaged_by, created_at = excluded.created_at
       RETURNING *`,
      [k.scope, k.target, k.reason, k.by, toDate(k.createdAt)],
    );
    await this.changes.append('kill.put', toKill(row!));
  }

  async deleteKill(scope: KillScope, target: string): Promise<boolean> {
    await this.changes.lock();
    const rows = await this.#query('DELETE FROM kill_switches WHERE scope = $1 AND target = $2 RETURNING scope', [scope, target]);
    if (rows.length > 0) await this.changes.append('kill.delete', { scope, target });
    return rows.length > 0;
  }

  async listKills(): Promise<KillSwitch[]> {
    return (await this.#query<KillRow>(`SELECT * FROM kill_switches ORDER BY created_at, scope ${C}, target ${C}`)).map(toKill);
  }

  async putAgentLevel(l: AgentLevel): Promise<void> {
    await this.changes.lock();
    if (l.level === 'normal') {
      const gone = await this.#query('DELETE FROM agent_levels WHERE agent = $1 RETURNING agent', [l.agent]);
      if (gone.length > 0) await this.changes.append('level.put', l);
      return;
    }
    const [row] = await this.#query<LevelRow>(
      `INSERT INTO agent_levels (agent, level, set_by, reason, since) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (agent) DO UPDATE SET level = excluded.level, set_by = excluded.set_by, reason = excluded.reason, since = excluded.since
       RETURNING *`,
      [l.agent, l.level, l.setBy, l.reason, toDate(l.since)],
    );
    await this.changes.append('level.put', toLevel(row!));
  }

  async listAgentLevels(): Promise<AgentLevel[]> {
    return (await this.#query<LevelRow>(`SELECT * FROM agent_levels ORDER BY agent ${C}`)).map(toLevel);
  }

  async putBudget(b: Budget): Promise<void> {
    await this.changes.lock();
    const [row] = await this.#query<BudgetRow>(
      `INSERT INTO budgets (scope, target, daily, weekly, monthly, set_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (scope, target) DO UPDATE SET daily = excluded.daily, weekly = excluded.weekly, monthly = excluded.monthly,
         set_by = excluded.set_by, updated_at = excluded.updated_at
       RETURNING *`,
      [b.scope, b.target, b.limits.daily, b.limits.weekly, b.limits.monthly, b.by, toDate(b.updatedAt)],
    );
    await this.changes.append('budget.put', toBudget(row!));
  }

  async deleteBudget(scope: BudgetScope, target: string): Promise<boolean> {
    await this.changes.lock();
    const rows = await this.#query('DELETE FROM budgets WHERE scope = $1 AND target = $2 RETURNING scope', [scope, target]);
    if (rows.length > 0) await this.changes.append('budget.delete', { scope, target });
    return rows.length > 0;
  }

  async listBudgets(): Promise<Budget[]> {
    return (await this.#query<BudgetRow>(`SELECT * FROM budgets ORDER BY scope ${C}, target ${C}`)).map(toBudget);
  }

  /**
   * Spend is attribution, not state a node decides from, and it is written at every settlement
   * flush of every node: it takes no change-log lock and appends no change, so it never queues
   * behind operator actions. Rows go in key order, so two flushes cannot deadlock on each other.
   */
  async addSpend(rows: SpendRow[]): Promise<void> {
    const identity = (r: SpendRow) => [r.day, r.team, r.agent, r.key, r.costCenter ?? '', r.fn ?? '', r.provider, r.model];
    const keyed = rows.map((r) => ({ r, id: identity(r), order: identity(r).join('\0') }));
    keyed.sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    for (const { r, id } of keyed) {
      await this.#query(
        `INSERT INTO spend (day, team, agent, key_id, cost_center, fn, provider, model, usd, requests, input_tokens, output_tokens)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (day, team, agent, key_id, cost_center, fn, provider, model) DO UPDATE SET
           usd = spend.usd + excluded.usd, requests = spend.requests + excluded.requests,
           input_tokens = spend.input_tokens + excluded.input_tokens, output_tokens = spend.output_tokens + excluded.output_tokens`,
        [...id, r.usd, r.requests, r.inputTokens, r.outputTokens],
      );
    }
  }

  async spendBy(dimension: SpendDimension, fromDay: string, toDay: string, team: string | null): Promise<SpendTotal[]> {
    const column = DIMENSION_COLUMN[dimension];
    const rows = await this.#query<{ value: string; usd: number; requests: number; input_tokens: number; output_tokens: number }>(
      `SELECT ${column} AS value, sum(usd)::float8 AS usd, sum(requests)::float8 AS requests,
              sum(input_tokens)::float8 AS input_tokens, sum(output_tokens)::float8 AS output_tokens
       FROM spend WHERE day >= $1::date AND day <= $2::date AND ($3::text IS NULL OR team = $3)
       GROUP BY ${column} ORDER BY sum(usd) DESC, ${column} ${C}`,
      [fromDay, toDay, team],
    );
    return rows.map((r) => ({ value: r.value === '' ? null : r.value, usd: r.usd, requests: r.requests, inputTokens: r.input_tokens, outputTokens: r.output_tokens }));
  }

  async insertApproval(a: ApprovalRecord): Promise<void> {
    await this.changes.lock();
    const [row] = await this.#query<ApprovalRow>(
      `INSERT INTO approvals (id, status, created_at, expires_at, request_id, agent, team, key_id, run, contract, rule, kind, subject, decided_at, decided_by, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *`,
      [a.id, a.status, toDate(a.createdAt), toDate(a.expiresAt), a.requestId, a.agent, a.team, a.keyId, a.run, a.contract, a.rule, a.kind, a.subject, toDate(a.decidedAt), a.decidedBy, a.reason],
    );
    await this.changes.append('approval.put', toApproval(row!));
  }

  async decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string | null, reason: string | null, at: number): Promise<boolean> {
    await this.changes.lock();
    const [row] = await this.#query<ApprovalRow>(
      "UPDATE approvals SET status = $1, decided_by = $2, reason = $3, decided_at = $4 WHERE id = $5 AND status = 'pending' RETURNING *",
      [status, by, reason, toDate(at), id],
    );
    if (row) await this.changes.append('approval.put', toApproval(row));
    return row !== undefined;
  }

  async getApproval(id: string): Promise<ApprovalRecord | null> {
    const [row] = await this.#query<ApprovalRow>('SELECT * FROM approvals WHERE id = $1', [id]);
    return row ? toApproval(row) : null;
  }

  async listApprovals(status: ApprovalStatus | null, team: string | null, limit: number): Promise<ApprovalRecord[]> {
    const rows = await this.#query<ApprovalRow>(
      `SELECT * FROM approvals WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR team = $2) ORDER BY created_at DESC, id ${C} LIMIT $3`,
      [status, team, limit],
    );
    return rows.map(toApproval);
  }

  async expirePendingApprovals(at: number): Promise<number> {
    await this.changes.lock();
    const rows = await this.#query<ApprovalRow>(
      `UPDATE approvals SET status = 'expired', reason = 'the agent restarted while it waited', decided_at = $1 WHERE status = 'pending' AND kind != 'mcp-pin' RETURNING *`,
      [toDate(at)],
    );
    for (const row of rows.sort((a, b) => (a.id < b.id ? -1 : 1))) await this.changes.append('approval.put', toApproval(row));
    return rows.length;
  }

  async insertPinProposal(p: PinProposalRecord): Promise<void> {
    await this.#query('INSERT INTO mcp_pin_proposals (approval_id, server, tool, model, structure, read_only, destructive, change) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [p.approvalId, p.server, p.tool, p.model, p.structure, p.readOnly, p.destructive, p.change]);
  }

  async getPinProposal(approvalId: string): Promise<PinProposalRecord | null> {
    const [row] = await this.#query<PinRow & { approval_id: string; change: 'changed' | 'new' }>('SELECT * FROM mcp_pin_proposals WHERE approval_id = $1', [approvalId]);
    return row ? { approvalId: row.approval_id, server: row.server, tool: row.tool, model: row.model, structure: row.structure, readOnly: row.read_only, destructive: row.destructive, change: row.change } : null;
  }

  async listPinProposals(): Promise<(PinProposalRecord & { status: ApprovalStatus })[]> {
    const rows = await this.#query<PinRow & { approval_id: string; change: 'changed' | 'new'; status: ApprovalStatus }>(`SELECT p.*, a.status FROM mcp_pin_proposals p JOIN approvals a ON a.id = p.approval_id ORDER BY a.created_at, p.approval_id ${C}`);
    return rows.map((row) => ({ approvalId: row.approval_id, server: row.server, tool: row.tool, model: row.model, structure: row.structure, readOnly: row.read_only, destructive: row.destructive, change: row.change, status: row.status }));
  }

  async putOperatorCertificate(c: OperatorCertificate): Promise<void> {
    await this.#query(
      'INSERT INTO operator_certificates (serial, name, role, team, not_after, issued_at, issued_by, revoked_at, revoked_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)',
      [c.serial, c.name, c.role, c.team, toDate(c.notAfter), toDate(c.issuedAt), c.issuedBy, toDate(c.revokedAt), c.revokedBy, c.reason],
    );
  }

  async revokeOperatorCertificate(serial: string, at: number, by: string, reason: string | null): Promise<boolean> {
    const rows = await this.#query<{ serial: string }>(
      `INSERT INTO operator_certificates (serial, revoked_at, revoked_by, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT (serial) DO UPDATE SET revoked_at = EXCLUDED.revoked_at, revoked_by = EXCLUDED.revoked_by, reason = EXCLUDED.reason WHERE operator_certificates.revoked_at IS NULL
       RETURNING serial`,
      [serial, toDate(at), by, reason],
    );
    return rows.length > 0;
  }

  async listOperatorCertificates(): Promise<OperatorCertificate[]> {
    const rows = await this.#query<{ serial: string; name: string | null; role: string | null; team: string | null; not_after: Date | null; issued_at: Date | null; issued_by: string | null; revoked_at: Date | null; revoked_by: string | null; reason: string | null }>(
      `SELECT * FROM operator_certificates ORDER BY COALESCE(issued_at, revoked_at), serial ${C}`,
    );
    const ms = (d: Date | null) => (d === null ? null : d.getTime());
    return rows.map((r) => ({ serial: r.serial, name: r.name, role: r.role as OperatorCertificate['role'], team: r.team, notAfter: ms(r.not_after), issuedAt: ms(r.issued_at), issuedBy: r.issued_by, revokedAt: ms(r.revoked_at), revokedBy: r.revoked_by, reason: r.reason }));
  }

  async putApprovedPin(p: ApprovedPinRecord): Promise<void> {
    await this.changes.lock();
    await this.#query(
      `INSERT INTO mcp_pins (server, tool, model, structure, read_only, destructive, approval_id, approved_by, approved_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (server, tool) DO UPDATE SET model = EXCLUDED.model, structure = EXCLUDED.structure, read_only = EXCLUDED.read_only, destructive = EXCLUDED.destructive, approval_id = EXCLUDED.approval_id, approved_by = EXCLUDED.approved_by, approved_at = EXCLUDED.approved_at`,
      [p.server, p.tool, p.model, p.structure, p.readOnly, p.destructive, p.approvalId, p.approvedBy, toDate(p.approvedAt)],
    );
    // Every node's listings of that tool match it from the next delta on.
    await this.changes.append('mcp_pin.put', p);
  }

  async listApprovedPins(): Promise<ApprovedPinRecord[]> {
    const rows = await this.#query<PinRow & { approval_id: string; approved_by: string; approved_at: Date }>(`SELECT * FROM mcp_pins ORDER BY server ${C}, tool ${C}`);
    return rows.map((row) => ({ server: row.server, tool: row.tool, model: row.model, structure: row.structure, readOnly: row.read_only, destructive: row.destructive, approvalId: row.approval_id, approvedBy: row.approved_by, approvedAt: row.approved_at.getTime() }));
  }
}

interface PinRow {
  server: string;
  tool: string;
  model: string;
  structure: string;
  read_only: boolean | null;
  destructive: boolean | null;
}
