// Budget leases across nodes (docs/fleet.md, "Budgets: leases") against a real PostgreSQL: three
// "nodes" (each its own PgStore and pool, as separate processes would have) draw leases of one
// budget window at once; none over-grants, a killed node's lease comes back after its TTL, and
// the overrun stays within the stated bound. Money is checked in SQL, as numeric: exactly.
import test, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Pool } from 'pg';
import { windowStartDay } from '../../proxy/src/index.js';
import { PgStore, type GrantRequest, type GrantResult, type Lease, type LeaseWindow } from '../../agent/src/state/postgres/index.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';
import { ROOT } from '../helpers/process.js';

const T0 = Date.parse('2026-12-02T12:00:00.000Z');
const TTL = 30_000;
const HOLDER = new URL('../fixtures/lease-holder.js', import.meta.url).pathname;

postgresSuite(() => {
  // One server; a database per test, since expire() sweeps every window of a database. The tests
  // run one at a time: each holds a dozen connections, and the server allows 40.
  let pg!: PostgresServer;
  let n = 0;
  sharedPostgres((server) => (pg = server));

  interface Fleet {
    url: string;
    control: PgStore;
    /** Three "nodes", each its own PgStore and pool, as separate processes would have. */
    nodes: PgStore[];
    /** Raw SQL for the exact (numeric) checks. */
    sql: Pool;
  }

  async function fleet(t: ExecutionContext): Promise<Fleet> {
    const url = await pg.createDatabase(`leases_${++n}`);
    const control = await PgStore.open(url, { max: 2 });
    // 100 grants per node queue for 3 connections each, serialized on the budget's row: the wait for a connection is long under load, and not what is tested.
    const nodes = await Promise.all([0, 1, 2].map(() => PgStore.open(url, { max: 3, connectTimeoutMs: 60_000 })));
    const sql = new Pool({ connectionString: url, max: 1 });
    sql.on('error', () => {}); // (an idle connection dropped as the shared server stops must not end the worker)
    t.teardown(async () => {
      await Promise.all([control, ...nodes].map((s) => s.close()));
      await sql.end();
    });
    return { url, control, nodes, sql };
  }

  /** A team budget and its daily window. */
  async function budget(control: PgStore, limits: { daily: number | null; weekly?: number | null }): Promise<LeaseWindow> {
    const target = 'payments';
    await control.putBudget({ scope: 'team', target, limits: { daily: limits.daily, weekly: limits.weekly ?? null, monthly: null }, by: 'admin', updatedAt: T0 });
    return { scope: 'team', target, window: 'daily', windowStart: windowStartDay('daily', T0) };
  }

  function ask(w: LeaseWindow, nodeId: string, wantUsd: number, maxUsd = 1000, now = T0): GrantRequest {
    return { ...w, nodeId, wantUsd, maxUsd, ttlMs: TTL, now };
  }

  function leased(t: ExecutionContext, r: GrantResult): Lease {
    if (!r.granted) return t.fail(`refused: ${JSON.stringify(r)}`) as never;
    return r.lease;
  }

  /** The window's totals as numeric text, and whether settled + outstanding is within (or exactly) the limit. */
  async function exact(sql: Pool, w: LeaseWindow) {
    const r = await sql.query<{ spent: string; outstanding: string; committed: string; within: boolean; equal: boolean; overrun: string }>(
      `WITH t AS (
         SELECT coalesce((SELECT usd FROM budget_spend WHERE scope = $1 AND target = $2 AND period = $3 AND window_start = $4), 0) AS spent,
                (SELECT coalesce(sum(usd), 0) FROM budget_leases WHERE scope = $1 AND target = $2 AND period = $3 AND window_start = $4 AND returned_at IS NULL) AS outstanding,
                (SELECT daily FROM budgets WHERE scope = $1 AND target = $2) AS lim)
       SELECT spent::text, outstanding::text, (spent + outstanding)::text AS committed, spent + outstanding <= lim AS within,
              spent + outstanding = lim AS equal, greatest(spent - lim, 0)::text AS overrun FROM t`,
      [w.scope, w.target, w.window, w.windowStart],
    );
    return r.rows[0]!;
  }

  test.serial('3 nodes × 100 concurrent grants against the last dollars of a budget: granted + settled is the limit exactly, never more', async (t) => {
    const { control, nodes, sql } = await fleet(t);
    const w = await budget(control, { daily: 100 });
    const first = leased(t, await control.leases.grant(ask(w, 'node-0', 97.01)));
    t.like(await control.leases.return(first.id, 97.01, T0), { returned: true, chargedUsd: 97.01 });
    const results = await Promise.all(nodes.flatMap((node, i) => Array.from({ length: 100 }, () => node.leases.grant(ask(w, `node-${i}`, 0.07, 0.05)))));
    const granted = results.filter((r) => r.granted).map((r) => r.lease);
    // 2.99 left in slices of at most 0.05: 59 whole slices and one of 0.04.
    t.is(granted.length, 60);
    t.deepEqual(granted.map((l) => l.usd).sort(), [0.04, ...Array<number>(59).fill(0.05)]);
    t.true(results.filter((r) => !r.granted).every((r) => !r.granted && r.reason === 'leased_out'));
    t.is(new Set(granted.map((l) => l.nodeId)).size, 3, 'every node got some of it');
    t.like(await exact(sql, w), { spent: '97.01', outstanding: '2.99', equal: true });
  });

  test.serial('a node SIGKILLed mid-lease: its lease holds until it expires, is then charged in full, and the other nodes lease the rest', async (t) => {
    const { url, control, nodes, sql } = await fleet(t);
    const w = await budget(control, { daily: 10 });
    const holder = spawn(process.execPath, [HOLDER, JSON.stringify({ ...ask(w, 'node-crashed', 4, 4), url })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    t.teardown(() => holder.kill('SIGKILL'));
    const [line] = (await once(createInterface({ input: holder.stdout! }), 'line')) as [string];
    const crashed = leased(t, JSON.parse(line) as GrantResult);
    t.is(crashed.usd, 4);
    const other = leased(t, await nodes[0]!.leases.grant(ask(w, 'node-0', 6, 10)));
    t.is(other.usd, 6);
    holder.kill('SIGKILL');
    await once(holder, 'exit');

    // Before its TTL the dead node's lease is still outstanding: nothing of it can be re-leased.
    t.like(await nodes[1]!.leases.grant(ask(w, 'node-1', 1, 10, T0 + TTL - 1)), { granted: false, reason: 'leased_out', outstandingUsd: 10 });
    t.like(await nodes[0]!.leases.return(other.id, 2, T0 + 1000), { returned: true, chargedUsd: 2 });

    const expired = await control.leases.expire(T0 + TTL);
    t.deepEqual(expired.map((l) => [l.id, l.expired, l.spentUsd]), [[crashed.id, true, 4]]);
    t.deepEqual(await control.leases.outstanding(w), []);
    // The crashed lease reduced what is left by exactly its grant, no more: 10 − 2 spent − 4.
    t.like(await exact(sql, w), { spent: '6', outstanding: '0' });
    const rest = leased(t, await nodes[1]!.leases.grant(ask(w, 'node-1', 10, 10, T0 + TTL)));
    t.is(rest.usd, 4);
    t.like(await exact(sql, w), { equal: true });
    t.deepEqual(await control.leases.expire(T0 + TTL), [], 'an expired lease is charged once');
  });

  test.serial('a returned lease gives back its unspent part; returning it again charges nothing; a late return after expiry charges only what exceeds the grant', async (t) => {
    const { control, nodes, sql } = await fleet(t);
    const w = await budget(control, { daily: 10 });
    const a = leased(t, await nodes[0]!.leases.grant(ask(w, 'node-0', 5)));
    t.like(await nodes[0]!.leases.return(a.id, 2, T0 + 1), { returned: true, chargedUsd: 2, lease: { returnedAt: T0 + 1, spentUsd: 2, expired: false } });
    t.like(await nodes[0]!.leases.return(a.id, 2, T0 + 2), { returned: false, reason: 'returned', chargedUsd: 0 });
    t.like(await control.leases.totals(w), { limitUsd: 10, spentUsd: 2, outstandingUsd: 0 });

    const b = leased(t, await nodes[1]!.leases.grant(ask(w, 'node-1', 100)));
    t.is(b.usd, 8, 'the 3 that node-0 did not spend came back');
    await control.leases.expire(T0 + TTL);
    t.like(await nodes[1]!.leases.return(b.id, 8.25, T0 + TTL + 1), { returned: false, reason: 'expired', chargedUsd: 0.25 });
    t.like(await exact(sql, w), { spent: '10.25', overrun: '0.25' });
    t.like(await nodes[2]!.leases.grant(ask(w, 'node-2', 1, 1000, T0 + TTL + 2)), { granted: false, reason: 'spent', spentUsd: 10.25 });
    t.like(await control.leases.return('lease_nope', 1, T0), { returned: false, reason: 'not_found', chargedUsd: 0 });
  });

  test.serial('a lease is at most maxUsd and at most what was asked; a window without a limit has nothing to lease', async (t) => {
    const { control, nodes } = await fleet(t);
    const w = await budget(control, { daily: 100, weekly: null });
    t.is(leased(t, await nodes[0]!.leases.grant(ask(w, 'node-0', 50, 3))).usd, 3);
    t.is(leased(t, await nodes[0]!.leases.grant(ask(w, 'node-0', 2, 3))).usd, 2);
    const weekly: LeaseWindow = { ...w, window: 'weekly', windowStart: windowStartDay('weekly', T0) };
    t.like(await nodes[0]!.leases.grant(ask(weekly, 'node-0', 1)), { granted: false, reason: 'no_limit', limitUsd: null });
    const unknown: LeaseWindow = { ...w, target: 'team-without-budget' };
    t.like(await nodes[0]!.leases.grant(ask(unknown, 'node-0', 1)), { granted: false, reason: 'no_limit' });
  });

  test.serial('renewal keeps a lease alive past its first TTL; an overdue lease cannot be renewed and the next grant charges it in full', async (t) => {
    const { control, nodes } = await fleet(t);
    const w = await budget(control, { daily: 10 });
    const a = leased(t, await nodes[0]!.leases.grant(ask(w, 'node-0', 6)));
    t.like(await nodes[0]!.leases.renew(a.id, TTL, T0 + TTL - 1), { renewed: true, lease: { expiresAt: T0 + 2 * TTL - 1 } });
    // Past the first TTL, the renewed lease is still held: only 4 is left.
    const b = leased(t, await nodes[1]!.leases.grant(ask(w, 'node-1', 10, 10, T0 + TTL + 1)));
    t.is(b.usd, 4);
    t.like(await nodes[0]!.leases.renew(a.id, TTL, T0 + 2 * TTL), { renewed: false, reason: 'expired' });
    t.like(await nodes[2]!.leases.grant(ask(w, 'node-2', 1, 10, T0 + 2 * TTL)), { granted: false, reason: 'leased_out', spentUsd: 6, outstandingUsd: 4 });
    t.like(await control.leases.get(a.id), { expired: true, spentUsd: 6, returnedAt: T0 + 2 * TTL });
    t.like(await control.leases.renew('lease_nope', TTL, T0), { renewed: false, reason: 'not_found' });
    await nodes[1]!.leases.return(b.id, 1, T0 + 2 * TTL);
    t.like(await nodes[1]!.leases.renew(b.id, TTL, T0 + 2 * TTL), { renewed: false, reason: 'returned' });
  });

  test.serial('the overrun bound: nodes that settle more than they leased overrun by at most the leases outstanding at the last grant, ≤ nodes × maxUsd', async (t) => {
    // Bound (docs/fleet.md): every grant leaves settled + outstanding ≤ limit. After the last
    // grant, only leases outstanding then can still settle, each adding at most its excess over
    // its grant; while a lease's excess is at most its grant (actual usage at most twice the
    // reservation), overrun ≤ outstanding at the last grant ≤ nodes × maxUsd (one lease a node).
    const { control, nodes, sql } = await fleet(t);
    const w = await budget(control, { daily: 10.37 });
    const maxUsd = 1;
    const usage = [1.25, 1.5, 2]; // each node's actual spend per dollar leased
    let lastOutstanding = 0;
    let peak = 0;
    for (let round = 0; round < 20; round++) {
      const now = T0 + round;
      const results = await Promise.all(nodes.map((node, i) => node.leases.grant(ask(w, `node-${i}`, maxUsd, maxUsd, now))));
      const granted = results.flatMap((r, i) => (r.granted ? [{ lease: r.lease, i }] : []));
      if (granted.length === 0) break;
      const after = await exact(sql, w);
      t.true(after.within, `round ${round}: settled ${after.spent} + outstanding ${after.outstanding} is within the limit`);
      lastOutstanding = Number(after.outstanding);
      peak = Math.max(peak, lastOutstanding);
      // Each node spends its lease fully, and then some: usage above the reservation.
      await Promise.all(granted.map(({ lease, i }) => nodes[i]!.leases.return(lease.id, Math.round(lease.usd * usage[i]! * 1e6) / 1e6, now)));
    }
    const overrun = Number((await exact(sql, w)).overrun);
    t.true(overrun > 0, 'the scenario does overrun');
    t.true(overrun <= lastOutstanding, `overrun ${overrun} ≤ outstanding at the last grant ${lastOutstanding}`);
    t.true(peak <= nodes.length * maxUsd, `outstanding peaked at ${peak} ≤ ${nodes.length} × ${maxUsd}`);
    t.like(await nodes[0]!.leases.grant(ask(w, 'node-0', 1, 1, T0 + 100)), { granted: false, reason: 'spent' });
  });

  test.serial('bad arguments are refused with ALT_LEASE_INVALID naming the field, before anything is written', async (t) => {
    const { control, nodes } = await fleet(t);
    const w = await budget(control, { daily: 10 });
    const cases: [Partial<GrantRequest>, string][] = [
      [{ window: 'weekly' }, 'windowStart'], // 2026-12-02 is a Wednesday, not the first day of a week
      [{ windowStart: '2026-13-01' }, 'windowStart'],
      [{ scope: 'galaxy' as never }, 'scope'],
      [{ wantUsd: -1 }, 'wantUsd'],
      [{ maxUsd: Number.NaN }, 'maxUsd'],
      [{ ttlMs: 0 }, 'ttlMs'],
      [{ nodeId: '' }, 'nodeId'],
      [{ now: Number.NaN }, 'now'],
      [{ now: T0 + 86_400_000 }, 'windowStart'], // tomorrow: the window has ended
    ];
    for (const [bad, field] of cases) {
      const err = await t.throwsAsync(nodes[0]!.leases.grant({ ...ask(w, 'node-0', 1), ...bad }));
      t.like(err, { code: 'ALT_LEASE_INVALID', field }, JSON.stringify(bad));
    }
    t.deepEqual(await control.leases.outstanding(w), []);
  });
});
