// Budget leases (migration 003, docs/fleet.md "Budgets: leases"): the slices of a budget window
// that nodes draw, spend locally, and return. Invariant kept by every grant: settled spend plus
// the leases not yet returned never exceeds the window's limit at the moment of the grant.
//
// Concurrency: every operation that changes a window's totals (grant, return, expiry) first locks
// that window's budget_spend row (INSERT … ON CONFLICT DO UPDATE locks it even when it is new)
// and holds it to commit. Grants of one window therefore run one after another, each reading
// the totals every earlier grant committed: none can over-grant. A plain INSERT … SELECT would
// not do under READ COMMITTED: two of them read the same sum and both insert. Locks are taken
// window first, then lease rows, and never two windows at once, so they cannot deadlock.
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { BUDGET_SCOPES, WINDOWS, windowStartDay, type BudgetScope, type Window } from '../../../../proxy/src/index.js';
import { LeaseInvalidError } from './errors.js';
import { inTransaction } from './transaction.js';

/** One budget window: a budget (scope, target), which of its limits, and the window's first day (YYYY-MM-DD, UTC). */
export interface LeaseWindow {
  scope: BudgetScope;
  target: string;
  window: Window;
  windowStart: string;
}

export interface Lease extends LeaseWindow {
  id: string;
  nodeId: string;
  usd: number;
  grantedAt: number;
  expiresAt: number;
  /** When it closed (returned by its node, or expired); null while outstanding. */
  returnedAt: number | null;
  /** What its closing charged to the window: the node's report, or all of usd when it expired. */
  spentUsd: number | null;
  expired: boolean;
}

export interface GrantRequest extends LeaseWindow {
  nodeId: string;
  /** What the node asks for; it gets at most this, at most maxUsd, at most what the window has left. */
  wantUsd: number;
  /** fleet.lease_max_usd. */
  maxUsd: number;
  ttlMs: number;
  now: number;
}

/** A window's totals in USD; null limit: the budget sets none for this window. */
export interface WindowTotals {
  limitUsd: number | null;
  spentUsd: number;
  outstandingUsd: number;
}

export type GrantRefusal = 'no_limit' | 'spent' | 'leased_out';
export type GrantResult = { granted: true; lease: Lease } | ({ granted: false; reason: GrantRefusal } & WindowTotals);
export type RenewResult = { renewed: true; lease: Lease } | { renewed: false; reason: 'not_found' | 'returned' | 'expired' };
/**
 * chargedUsd: what the call added to the window's settled spend. Returning a lease twice charges
 * nothing the second time (a node that lost the first answer may retry); returning one that
 * expired charges only what it spent beyond its grant, the grant having been charged in full.
 */
export type ReturnResult = { returned: true; lease: Lease; chargedUsd: number } | { returned: false; reason: 'not_found' | 'returned' | 'expired'; chargedUsd: number };

const LEASE_COLUMNS = 'id, scope, target, period, window_start::text AS window_start, node_id, usd::text AS usd, granted_at, expires_at, returned_at, spent_usd::text AS spent_usd, expired';
const OPEN_IN_WINDOW = 'scope = $1 AND target = $2 AND period = $3 AND window_start = $4 AND returned_at IS NULL';

export class LeaseStore {
  constructor(
    private readonly pool: Pool,
    private readonly url: string,
  ) {}

  /** A lease of min(want, max, limit − settled − outstanding), or why there is none. */
  async grant(req: GrantRequest): Promise<GrantResult> {
    const key = windowKey(req);
    checkNow(req.now);
    // A lease of a window that has ended (or not begun) would be spent against the wrong limit.
    if (windowStartDay(req.window, req.now) !== req.windowStart) throw new LeaseInvalidError('windowStart', `windowStart ${req.windowStart} is not the ${req.window} window containing now (${new Date(req.now).toISOString()})`);
    checkUsd('wantUsd', req.wantUsd, false);
    checkUsd('maxUsd', req.maxUsd, false);
    checkTtl(req.ttlMs);
    if (typeof req.nodeId !== 'string' || req.nodeId === '') throw new LeaseInvalidError('nodeId', 'nodeId must be a non-empty string');
    return inTransaction(this.pool, this.url, async (c) => {
      await lockWindow(c, key);
      // A lease past its expiry is charged in full before the check: counting it as free would
      // lend out money its crashed node may have spent.
      await expireInWindow(c, key, req.now);
      // The column name comes from WINDOWS, never from the caller's text.
      const r = await c.query<{ limit: string | null; spent: string; outstanding: string; grantable: string | null; positive: boolean | null; exhausted: boolean | null }>(
        `WITH t AS (
           SELECT (SELECT ${key[2]} FROM budgets WHERE scope = $1 AND target = $2) AS lim,
                  (SELECT usd FROM budget_spend WHERE scope = $1 AND target = $2 AND period = $3 AND window_start = $4) AS spent,
                  (SELECT coalesce(sum(usd), 0) FROM budget_leases WHERE ${OPEN_IN_WINDOW}) AS outstanding)
         SELECT lim::text AS limit, spent::text, outstanding::text,
                least($5::numeric, $6::numeric, lim - spent - outstanding)::text AS grantable,
                least($5::numeric, $6::numeric, lim - spent - outstanding) > 0 AS positive,
                spent >= lim AS exhausted
         FROM t`,
        [...key, String(req.wantUsd), String(req.maxUsd)],
      );
      const t = r.rows[0]!;
      const totals: WindowTotals = { limitUsd: t.limit === null ? null : Number(t.limit), spentUsd: Number(t.spent), outstandingUsd: Number(t.outstanding) };
      if (t.limit === null) return { granted: false, reason: 'no_limit', ...totals };
      if (!t.positive) return { granted: false, reason: t.exhausted ? 'spent' : 'leased_out', ...totals };
      const inserted = await c.query<LeaseRow>(
        `INSERT INTO budget_leases (id, scope, target, period, window_start, node_id, usd, granted_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${LEASE_COLUMNS}`,
        [`lease_${randomUUID()}`, ...key, req.nodeId, t.grantable, new Date(req.now), new Date(req.now + req.ttlMs)],
      );
      return { granted: true, lease: toLease(inserted.rows[0]!) };
    });
  }

  /** Extends an outstanding lease to now + ttl; a lease past its expiry cannot be renewed (its node leases anew). */
  async renew(leaseId: string, ttlMs: number, now: number): Promise<RenewResult> {
    checkTtl(ttlMs);
    checkNow(now);
    // Only the lease row is locked: a renewal changes no window total.
    const r = await this.pool.query<LeaseRow>(
      `UPDATE budget_leases SET expires_at = greatest(expires_at, $2) WHERE id = $1 AND returned_at IS NULL AND expires_at > $3 RETURNING ${LEASE_COLUMNS}`,
      [leaseId, new Date(now + ttlMs), new Date(now)],
    );
    if (r.rows[0]) return { renewed: true, lease: toLease(r.rows[0]) };
    const lease = await this.get(leaseId);
    return { renewed: false, reason: lease === null ? 'not_found' : lease.returnedAt !== null && !lease.expired ? 'returned' : 'expired' };
  }

  /** Closes a lease with what its node spent, charging that to the window; the unspent rest is free to lease again. */
  async return(leaseId: string, spentUsd: number, now: number): Promise<ReturnResult> {
    checkUsd('spentUsd', spentUsd, true);
    checkNow(now);
    // A lease's window never changes: read it unlocked, then lock the window before the lease row.
    const found = await this.get(leaseId);
    if (found === null) return { returned: false, reason: 'not_found', chargedUsd: 0 };
    const key = windowKey(found);
    return inTransaction(this.pool, this.url, async (c) => {
      await lockWindow(c, key);
      const closed = await c.query<LeaseRow>(`UPDATE budget_leases SET returned_at = $2, spent_usd = $3 WHERE id = $1 AND returned_at IS NULL RETURNING ${LEASE_COLUMNS}`, [leaseId, new Date(now), String(spentUsd)]);
      if (closed.rows[0]) {
        await charge(c, key, String(spentUsd));
        return { returned: true, lease: toLease(closed.rows[0]), chargedUsd: spentUsd };
      }
      const again = await c.query<{ expired: boolean; excess: string }>('SELECT expired, greatest($2::numeric - usd, 0)::text AS excess FROM budget_leases WHERE id = $1', [leaseId, String(spentUsd)]);
      const { expired, excess } = again.rows[0]!;
      if (!expired) return { returned: false, reason: 'returned', chargedUsd: 0 };
      await charge(c, key, excess);
      return { returned: false, reason: 'expired', chargedUsd: Number(excess) };
    });
  }

  /**
   * Closes every lease past its expiry, charging its whole grant to its window: its node stopped
   * renewing (crashed, or cut off) and may have spent all of it before it went quiet. Charging
   * less would let the window be leased again beyond its limit. One transaction per window.
   */
  async expire(now: number): Promise<Lease[]> {
    checkNow(now);
    const due = await this.pool.query<{ scope: BudgetScope; target: string; period: Window; window_start: string }>(
      'SELECT DISTINCT scope, target, period, window_start::text AS window_start FROM budget_leases WHERE returned_at IS NULL AND expires_at <= $1',
      [new Date(now)],
    );
    const out: Lease[] = [];
    for (const w of due.rows) {
      const key = windowKey({ scope: w.scope, target: w.target, window: w.period, windowStart: w.window_start });
      out.push(
        ...(await inTransaction(this.pool, this.url, async (c) => {
          await lockWindow(c, key);
          return expireInWindow(c, key, now);
        })),
      );
    }
    return out;
  }

  /** The leases of a window not yet returned (a lease past its expiry stays here until expire or the next grant charges it). */
  async outstanding(w: LeaseWindow): Promise<Lease[]> {
    const r = await this.pool.query<LeaseRow>(`SELECT ${LEASE_COLUMNS} FROM budget_leases WHERE ${OPEN_IN_WINDOW} ORDER BY granted_at, id COLLATE "C"`, windowKey(w));
    return r.rows.map(toLease);
  }

  /** The window's limit, settled spend and outstanding leases, as one consistent snapshot. */
  async totals(w: LeaseWindow): Promise<WindowTotals> {
    const key = windowKey(w);
    const r = await this.pool.query<{ limit: string | null; spent: string | null; outstanding: string }>(
      `SELECT (SELECT ${key[2]} FROM budgets WHERE scope = $1 AND target = $2)::text AS limit,
              (SELECT usd FROM budget_spend WHERE scope = $1 AND target = $2 AND period = $3 AND window_start = $4)::text AS spent,
              (SELECT coalesce(sum(usd), 0) FROM budget_leases WHERE ${OPEN_IN_WINDOW})::text AS outstanding`,
      key,
    );
    const t = r.rows[0]!;
    return { limitUsd: t.limit === null ? null : Number(t.limit), spentUsd: Number(t.spent ?? 0), outstandingUsd: Number(t.outstanding) };
  }

  /** USD in outstanding leases, per node (`altrace nodes`). */
  async heldByNode(): Promise<Map<string, number>> {
    const r = await this.pool.query<{ node_id: string; usd: string }>('SELECT node_id, sum(usd)::text AS usd FROM budget_leases WHERE returned_at IS NULL GROUP BY node_id');
    return new Map(r.rows.map((x) => [x.node_id, Number(x.usd)]));
  }

  async get(leaseId: string): Promise<Lease | null> {
    const r = await this.pool.query<LeaseRow>(`SELECT ${LEASE_COLUMNS} FROM budget_leases WHERE id = $1`, [leaseId]);
    return r.rows[0] ? toLease(r.rows[0]) : null;
  }
}

type WindowKey = [scope: BudgetScope, target: string, window: Window, windowStart: string];

/** The window as query parameters, refused with the field named when it is not one. */
function windowKey(w: LeaseWindow): WindowKey {
  if (!(BUDGET_SCOPES as readonly string[]).includes(w.scope)) throw new LeaseInvalidError('scope', `scope must be one of ${BUDGET_SCOPES.join(', ')}; got ${JSON.stringify(w.scope)}`);
  if (typeof w.target !== 'string' || w.target === '') throw new LeaseInvalidError('target', 'target must be a non-empty string');
  if (!(WINDOWS as readonly string[]).includes(w.window)) throw new LeaseInvalidError('window', `window must be one of ${WINDOWS.join(', ')}; got ${JSON.stringify(w.window)}`);
  const day = /^\d{4}-\d{2}-\d{2}$/.test(w.windowStart) ? Date.parse(`${w.windowStart}T00:00:00Z`) : NaN;
  if (Number.isNaN(day) || windowStartDay(w.window, day) !== w.windowStart) {
    throw new LeaseInvalidError('windowStart', `windowStart must be the first day (YYYY-MM-DD, UTC) of a ${w.window} window; got ${JSON.stringify(w.windowStart)}`);
  }
  return [w.scope, w.target, w.window, w.windowStart];
}

function checkUsd(field: string, v: number, zeroOk: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
    throw new LeaseInvalidError(field, `${field} must be a finite number of USD ${zeroOk ? '≥ 0' : '> 0'}; got ${String(v)}`);
  }
}

function checkNow(now: number): void {
  if (!Number.isSafeInteger(now) || now < 0) throw new LeaseInvalidError('now', `now must be a time in epoch milliseconds; got ${String(now)}`);
}

function checkTtl(ttlMs: number): void {
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) throw new LeaseInvalidError('ttlMs', `ttlMs must be a positive whole number of milliseconds; got ${String(ttlMs)}`);
}

/** Takes the window's row lock for the rest of the transaction, making the row if the window has none yet. */
async function lockWindow(c: PoolClient, key: WindowKey): Promise<void> {
  await c.query(
    `INSERT INTO budget_spend (scope, target, period, window_start) VALUES ($1, $2, $3, $4)
     ON CONFLICT (scope, target, period, window_start) DO UPDATE SET usd = budget_spend.usd`,
    key,
  );
}

async function charge(c: PoolClient, key: WindowKey, usd: string): Promise<void> {
  await c.query('UPDATE budget_spend SET usd = usd + $5::numeric WHERE scope = $1 AND target = $2 AND period = $3 AND window_start = $4', [...key, usd]);
}

/** Closes the window's leases past expiry, charged in full; the caller holds the window's lock. */
async function expireInWindow(c: PoolClient, key: WindowKey, now: number): Promise<Lease[]> {
  const r = await c.query<LeaseRow>(
    `UPDATE budget_leases SET returned_at = $5, spent_usd = usd, expired = true WHERE ${OPEN_IN_WINDOW} AND expires_at <= $5 RETURNING ${LEASE_COLUMNS}`,
    [...key, new Date(now)],
  );
  if (r.rows.length > 0) {
    await c.query(
      `UPDATE budget_spend SET usd = usd + (SELECT sum(usd) FROM budget_leases WHERE id = ANY($5::text[])) WHERE scope = $1 AND target = $2 AND period = $3 AND window_start = $4`,
      [...key, r.rows.map((l) => l.id)],
    );
  }
  return r.rows.map(toLease);
}

interface LeaseRow {
  id: string;
  scope: BudgetScope;
  target: string;
  period: Window;
  window_start: string;
  node_id: string;
  usd: string;
  granted_at: Date;
  expires_at: Date;
  returned_at: Date | null;
  spent_usd: string | null;
  expired: boolean;
}

function toLease(r: LeaseRow): Lease {
  return {
    id: r.id,
    scope: r.scope,
    target: r.target,
    window: r.period,
    windowStart: r.window_start,
    nodeId: r.node_id,
    usd: Number(r.usd),
    grantedAt: r.granted_at.getTime(),
    expiresAt: r.expires_at.getTime(),
    returnedAt: r.returned_at === null ? null : r.returned_at.getTime(),
    spentUsd: r.spent_usd === null ? null : Number(r.spent_usd),
    expired: r.expired,
  };
}
