// PgStore against a real PostgreSQL server: every Store operation answers as the embedded
// SQLite store does for the same sequence, and every write lands in the change log, in commit
// order, announced to listeners on other connections.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VirtualKey } from '../../proxy/src/index.js';
import { SqliteStore } from '../../agent/src/state/sqlite.js';
import type { ApprovalRecord } from '../../agent/src/state/store.js';
import { PgStore, type Change, type StoreOperations } from '../../agent/src/state/postgres/index.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { eventually } from '../helpers/harness.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';

const T0 = Date.parse('2026-12-02T12:00:00.123Z');

const KEY: VirtualKey = {
  id: 'key_1',
  hash: 'a'.repeat(64),
  prefix: 'alt-abcd',
  agent: 'billing-bot',
  team: 'payments',
  models: ['gpt-4o*', 'claude-*'],
  providers: ['openai'],
  costCenter: 'cc-42',
  expiresAt: T0 + 86_400_001,
  revokedAt: null,
  createdAt: T0,
};
const BARE_KEY: VirtualKey = { ...KEY, id: 'key_2', hash: 'b'.repeat(64), prefix: 'alt-efgh', agent: 'etl', models: [], providers: [], costCenter: null, expiresAt: null, createdAt: T0 + 1 };

function approval(id: string, at: number, team = 'payments'): ApprovalRecord {
  return {
    id,
    status: 'pending',
    createdAt: at,
    expiresAt: at + 60_000,
    requestId: `req-${id}`,
    agent: 'billing-bot',
    team,
    keyId: KEY.id,
    run: id === 'ap_1' ? 'run-7' : null,
    contract: 'refunds@3',
    rule: 'big-refund',
    kind: 'tool',
    subject: 'issue_refund',
    decidedAt: null,
    decidedBy: null,
    reason: null,
  };
}

/** The SQLite store seen through the async interface, so one script drives both. */
function asAsync(store: SqliteStore): StoreOperations {
  return new Proxy(store, {
    get(target, prop) {
      const v = Reflect.get(target, prop) as unknown;
      return typeof v === 'function' ? async (...args: unknown[]) => (v as (...a: unknown[]) => unknown).apply(target, args) : v;
    },
  }) as unknown as StoreOperations;
}

/** Every operation, writes and no-op writes, with what each read answered, in order. */
async function script(s: StoreOperations): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  await s.insertKey(KEY);
  await s.insertKey(BARE_KEY);
  await s.updateKey({ ...KEY, models: ['gpt-4o-mini'], revokedAt: T0 + 5000 });
  await s.updateKey({ ...KEY, id: 'no_such_key' });
  out.keys = await s.listKeys();

  await s.addOperatorToken('hash-admin', 'admin', null, 'admin');
  await s.addOperatorToken('hash-pay', 'payments-ops', 'payments', 'operator');
  await s.addOperatorToken('hash-pay-2', 'payments-ops', 'payments', 'viewer'); // a taken name: replaces
  out.found = await s.findOperatorToken('hash-pay-2');
  out.replaced = await s.findOperatorToken('hash-pay');
  out.tokenCount = await s.countOperatorTokens();
  out.deletedToken = await s.deleteOperatorToken('admin');
  out.deletedMissingToken = await s.deleteOperatorToken('admin');
  out.tokens = await s.listOperatorTokens();

  await s.putKill({ scope: 'global', target: '*', reason: null, by: 'admin', createdAt: T0 });
  await s.putKill({ scope: 'agent', target: 'billing-bot', reason: 'loop', by: 'admin', createdAt: T0 + 1 });
  await s.putKill({ scope: 'agent', target: 'billing-bot', reason: 'still looping', by: 'oncall', createdAt: T0 + 2 });
  out.unkilled = await s.deleteKill('global', '*');
  out.unkilledMissing = await s.deleteKill('team', 'nobody');
  out.kills = await s.listKills();

  await s.putAgentLevel({ agent: 'etl', level: 'throttle', setBy: 'rule:burst', reason: 'burst', since: T0 });
  await s.putAgentLevel({ agent: 'billing-bot', level: 'quarantine', setBy: 'operator:admin', reason: null, since: T0 + 3 });
  await s.putAgentLevel({ agent: 'etl', level: 'normal', setBy: 'operator:admin', reason: null, since: T0 + 4 });
  await s.putAgentLevel({ agent: 'never-levelled', level: 'normal', setBy: 'operator:admin', reason: null, since: T0 + 4 });
  out.levels = await s.listAgentLevels();

  await s.putBudget({ scope: 'team', target: 'payments', limits: { daily: 12.5, weekly: null, monthly: 300 }, by: 'admin', updatedAt: T0 });
  await s.putBudget({ scope: 'agent', target: 'etl', limits: { daily: null, weekly: 0.25, monthly: null }, by: 'admin', updatedAt: T0 });
  await s.putBudget({ scope: 'team', target: 'payments', limits: { daily: 20, weekly: null, monthly: 300 }, by: 'oncall', updatedAt: T0 + 9 });
  out.budgetDeleted = await s.deleteBudget('agent', 'etl');
  out.budgetDeletedMissing = await s.deleteBudget('agent', 'etl');
  out.budgets = await s.listBudgets();

  const row = { day: '2026-12-01', team: 'payments', agent: 'billing-bot', key: KEY.id, costCenter: 'cc-42', fn: 'refund', provider: 'openai', model: 'gpt-4o', usd: 0.25, requests: 1, inputTokens: 100, outputTokens: 20 };
  await s.addSpend([row, { ...row, day: '2026-12-02', fn: null, costCenter: null, model: 'gpt-4o-mini', usd: 1.125 }, { ...row, team: 'data', agent: 'etl', key: BARE_KEY.id, usd: 0.5 }]);
  await s.addSpend([row]);
  await s.addSpend([]);
  for (const by of ['team', 'agent', 'key', 'cost_center', 'function', 'model'] as const) out[`spendBy_${by}`] = await s.spendBy(by, '2026-12-01', '2026-12-02', null);
  out.spendPaymentsFirstDay = await s.spendBy('model', '2026-12-01', '2026-12-01', 'payments');

  await s.insertApproval(approval('ap_1', T0));
  await s.insertApproval(approval('ap_2', T0 + 10));
  await s.insertApproval(approval('ap_3', T0 + 20, 'data'));
  out.decided = await s.decideApproval('ap_1', 'approved', 'admin', 'fine', T0 + 30);
  out.decidedTwice = await s.decideApproval('ap_1', 'denied', 'admin', 'changed my mind', T0 + 31);
  out.ap1 = await s.getApproval('ap_1');
  out.missingApproval = await s.getApproval('nope');
  out.pendingPayments = await s.listApprovals('pending', 'payments', 10);
  out.allLimited = await s.listApprovals(null, null, 2);
  // MCP pin reviews: the proposal beside its approval; a restart's expiry leaves them pending.
  await s.insertApproval({ ...approval('ap_pin', T0 + 25), kind: 'mcp-pin', contract: '', rule: 'mcp-tool-changed', subject: 'mcp:tools tool send_email' });
  const proposal = { approvalId: 'ap_pin', server: 'tools', tool: 'send_email', model: `sha256:${'a'.repeat(64)}`, structure: `sha256:${'b'.repeat(64)}`, readOnly: null, destructive: false, change: 'changed' as const };
  await s.insertPinProposal(proposal);
  out.proposal = await s.getPinProposal('ap_pin');
  out.missingProposal = await s.getPinProposal('ap_1');
  out.expired = await s.expirePendingApprovals(T0 + 40);
  out.afterExpiry = await s.listApprovals(null, null, 10);
  out.proposals = await s.listPinProposals();
  await s.putApprovedPin({ server: 'tools', tool: 'send_email', model: proposal.model, structure: proposal.structure, readOnly: true, destructive: null, approvalId: 'ap_pin', approvedBy: 'admin', approvedAt: T0 + 50 });
  await s.putApprovedPin({ server: 'tools', tool: 'send_email', model: `sha256:${'c'.repeat(64)}`, structure: proposal.structure, readOnly: null, destructive: true, approvalId: 'ap_pin2', approvedBy: 'root', approvedAt: T0 + 60 });
  await s.putApprovedPin({ server: 'alpha', tool: 'read', model: proposal.model, structure: proposal.structure, readOnly: null, destructive: null, approvalId: 'ap_pin3', approvedBy: 'admin', approvedAt: T0 + 70 });
  out.approvedPins = await s.listApprovedPins();
  return out;
}

/** Token creation times are each store's own clock: compared apart. */
function withoutTokenTimes(out: Record<string, unknown>): Record<string, unknown> {
  const strip = (v: unknown) => (v && typeof v === 'object' && 'createdAt' in v ? { ...v, createdAt: 'now' } : v);
  return { ...out, found: strip(out.found), tokens: (out.tokens as unknown[]).map(strip) };
}

postgresSuite(() => {
  let pg!: PostgresServer;
  let n = 0;
  sharedPostgres((server) => (pg = server));

  async function freshStore(t: ExecutionContext): Promise<{ store: PgStore; url: string }> {
    const url = await pg.createDatabase(`store_${++n}`);
    const store = await PgStore.open(url);
    t.teardown(() => store.close());
    return { store, url };
  }

  test('every Store operation round-trips, answering as the SQLite store does for the same sequence', async (t) => {
    const { store } = await freshStore(t);
    const dir = mkdtempSync(join(tmpdir(), 'altrace-pg-parity-'));
    const sqlite = new SqliteStore(dir);
    t.teardown(() => {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const before = Date.now();
    const fromPg = await script(store);
    const fromSqlite = await script(asAsync(sqlite));
    t.deepEqual(withoutTokenTimes(fromPg), withoutTokenTimes(fromSqlite));
    // The values themselves, not only agreement: milliseconds exact, arrays, nulls, money.
    t.deepEqual((fromPg.keys as VirtualKey[])[0], { ...KEY, models: ['gpt-4o-mini'], revokedAt: T0 + 5000 });
    t.deepEqual((fromPg.keys as VirtualKey[])[1], BARE_KEY);
    t.is(fromPg.tokenCount, 2);
    t.true((fromPg.found as { createdAt: number }).createdAt >= before - 1000);
    t.deepEqual(fromPg.spendBy_team, [
      { value: 'payments', usd: 1.625, requests: 3, inputTokens: 300, outputTokens: 60 },
      { value: 'data', usd: 0.5, requests: 1, inputTokens: 100, outputTokens: 20 },
    ]);
    t.is(fromPg.expired, 2, 'the pin review is not expired by a restart');
    t.deepEqual(fromPg.proposals, [{ approvalId: 'ap_pin', server: 'tools', tool: 'send_email', model: `sha256:${'a'.repeat(64)}`, structure: `sha256:${'b'.repeat(64)}`, readOnly: null, destructive: false, change: 'changed', status: 'pending' }]);
    t.deepEqual((fromPg.approvedPins as { server: string; tool: string; approvedBy: string; destructive: boolean | null }[]).map((p) => `${p.server}/${p.tool} ${p.approvedBy} ${p.destructive}`), ['alpha/read admin null', 'tools/send_email root true']);
  });

  test('money is numeric: spend adds up exactly however many small amounts are summed', async (t) => {
    const { store } = await freshStore(t);
    const row = { day: '2026-12-01', team: 't', agent: 'a', key: 'k', costCenter: null, fn: null, provider: 'openai', model: 'm', usd: 0.1, requests: 1, inputTokens: 1, outputTokens: 1 };
    for (let i = 0; i < 3; i++) await store.addSpend([row]);
    const [total] = await store.spendBy('team', '2026-12-01', '2026-12-01', null);
    t.is(total!.usd, 0.3); // 0.1 + 0.1 + 0.1 in floating point is 0.30000000000000004
  });

  test('every write appends one change with the new state, in order; writes that change nothing append nothing', async (t) => {
    const { store } = await freshStore(t);
    await script(store);
    const changes = await store.changesSince(0);
    t.deepEqual(
      changes.map((c) => c.version),
      changes.map((_, i) => i + 1),
    );
    t.deepEqual(
      changes.map((c) => c.kind),
      [
        ...['key.put', 'key.put', 'key.put'],
        ...['token.put', 'token.put', 'token.put', 'token.delete'],
        ...['kill.put', 'kill.put', 'kill.put', 'kill.delete'],
        ...['level.put', 'level.put', 'level.put'],
        ...['budget.put', 'budget.put', 'budget.put', 'budget.delete'],
        // Three asked, one decided, a pin review asked, two expired; then three approved pins.
        ...['approval.put', 'approval.put', 'approval.put', 'approval.put', 'approval.put', 'approval.put', 'approval.put'],
        ...['mcp_pin.put', 'mcp_pin.put', 'mcp_pin.put'],
      ],
    );
    t.deepEqual(changes[2]!.payload, { ...KEY, models: ['gpt-4o-mini'], revokedAt: T0 + 5000 });
    t.deepEqual(changes[5]!.payload, { hash: 'hash-pay-2', name: 'payments-ops', team: 'payments', role: 'viewer', expiresAt: null, createdAt: (changes[5]!.payload as { createdAt: number }).createdAt });
    t.deepEqual(changes[10]!.payload, { scope: 'global', target: '*' });
    t.deepEqual(changes[13]!.payload, { agent: 'etl', level: 'normal', setBy: 'operator:admin', reason: null, since: T0 + 4 });
    t.is(await store.headVersion(), changes.length);
    t.deepEqual(
      (await store.changesSince(changes.length - 2, 1)).map((c) => c.version),
      [changes.length - 1],
    );
  });

  test('a transaction commits all of its writes with consecutive versions, or none of them, and leaves no gap', async (t) => {
    const { store } = await freshStore(t);
    await store.transaction(async (tx) => {
      await tx.insertKey(KEY);
      await tx.putKill({ scope: 'agent', target: KEY.agent, reason: 'revoked', by: 'admin', createdAt: T0 });
    });
    await t.throwsAsync(
      store.transaction(async (tx) => {
        await tx.putKill({ scope: 'team', target: 'payments', reason: null, by: 'admin', createdAt: T0 });
        throw new Error('the operator action failed half way');
      }),
      { message: /half way/ },
    );
    t.deepEqual((await store.listKills()).map((k) => k.target), [KEY.agent]);
    await store.putBudget({ scope: 'team', target: 'payments', limits: { daily: 1, weekly: null, monthly: null }, by: 'admin', updatedAt: T0 });
    t.deepEqual(
      (await store.changesSince(0)).map((c) => `${c.version} ${c.kind}`),
      ['1 key.put', '2 kill.put', '3 budget.put'],
    );
  });

  test('concurrent writers: versions follow commit order, so a reader never sees version n before n-1', async (t) => {
    const { store, url } = await freshStore(t);
    const reader = await PgStore.open(url);
    t.teardown(() => reader.close());
    let writing = true;
    const gaps: string[] = [];
    const follow = (async () => {
      let seen = 0;
      while (writing || seen < (await reader.headVersion())) {
        for (const c of await reader.changesSince(seen)) {
          if (c.version !== seen + 1) gaps.push(`read ${c.version} after ${seen}`);
          seen = c.version;
        }
      }
      return seen;
    })();
    const writers = Array.from({ length: 40 }, (_, i) =>
      store.putKill({ scope: 'agent', target: `agent-${i}`, reason: null, by: 'admin', createdAt: T0 + i }),
    );
    await Promise.all(writers);
    writing = false;
    t.is(await follow, 40);
    t.deepEqual(gaps, []);
    const kills = new Set((await store.changesSince(0)).map((c: Change) => (c.payload as { target: string }).target));
    t.is(kills.size, 40);
  });

  test('NOTIFY reaches a listener on another connection with each committed version, and a new listener first hears the head', async (t) => {
    const { store, url } = await freshStore(t);
    await store.insertKey(KEY);
    const replica = await PgStore.open(url);
    t.teardown(() => replica.close());
    const heard: number[] = [];
    await replica.listen((v) => heard.push(v));
    t.deepEqual(heard, [1], 'the head version on connecting');
    await store.putKill({ scope: 'agent', target: 'a', reason: null, by: 'admin', createdAt: T0 });
    await store.transaction(async (tx) => {
      await tx.putKill({ scope: 'agent', target: 'b', reason: null, by: 'admin', createdAt: T0 });
      await tx.putKill({ scope: 'agent', target: 'c', reason: null, by: 'admin', createdAt: T0 });
    });
    await store.listKills(); // a read: no NOTIFY
    await eventually(() => heard.length >= 3, 2000, 'the NOTIFY of both transactions');
    t.deepEqual(heard, [1, 2, 4], 'one NOTIFY per transaction, carrying its last version');
    const missed = await replica.changesSince(1);
    t.deepEqual(missed.map((c) => (c.payload as { target: string }).target), ['a', 'b', 'c']);
  });
});
