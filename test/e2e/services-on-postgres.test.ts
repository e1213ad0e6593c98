// The agent's services on the control plane's store: the same operator scenario run through the
// services on the embedded SQLite store and on PgStore (a real PostgreSQL server) answers the
// same, leaves the same state in memory and on disk, and a multi-write action commits whole or
// not at all on both.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLevels, BudgetLedger, KeyRegistry, KillSwitches, PolicyHolder, SpendAttribution, type ApprovalAsk } from '../../proxy/src/index.js';
import { ApprovalService } from '../../agent/src/services/approval-service.js';
import { BudgetService } from '../../agent/src/services/budget-service.js';
import { EnforcementService } from '../../agent/src/services/enforcement-service.js';
import { KeyService } from '../../agent/src/services/key-service.js';
import { KillService } from '../../agent/src/services/kill-service.js';
import { TokenService } from '../../agent/src/services/token-service.js';
import type { ServiceStore, StoreOps } from '../../agent/src/state/service-store.js';
import type { ApprovalRecord } from '../../agent/src/state/store.js';
import { SqliteStore } from '../../agent/src/state/sqlite.js';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import { loadPolicy } from '../../agent/src/policy/load.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { eventually } from '../helpers/harness.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';
import { ROOT } from '../helpers/process.js';

const T0 = Date.parse('2026-12-02T12:00:00.000Z');
const admin = { name: 'admin', team: null };
const payments = { name: 'payments-ops', team: 'payments' };
const ask: ApprovalAsk = { requestId: 'r1', agent: 'billing-bot', team: 'payments', keyId: 'k', run: null, contract: 'refunds@1', rule: 'big', kind: 'tool', subject: 'refund', arguments: '{"amount":500}', timeoutMs: 60_000 };

/** The services as the runtime composes them, over fresh registries filled from `store`. */
async function services(store: ServiceStore) {
  const now = () => T0;
  const keys = new KeyRegistry();
  const switches = new KillSwitches();
  const ledger = new BudgetLedger();
  const levels = new AgentLevels();
  const kills = await KillService.open(store, switches, keys, now);
  const policy = new PolicyHolder(loadPolicy(join(ROOT, 'policies/default.yaml')));
  return {
    registries: { keys, switches, ledger, levels },
    kills,
    keys: await KeyService.open(store, keys, kills, now),
    budgets: await BudgetService.open(store, ledger, new SpendAttribution(), keys, now),
    enforcement: await EnforcementService.open(store, levels, kills, keys, policy, () => {}, now),
    approvals: await ApprovalService.open(store, now),
    tokens: new TokenService(store),
  };
}

/** What a fresh start reads back into memory from the store. */
async function reloaded(store: ServiceStore) {
  const s = await services(store);
  return {
    // Both keys were made in one millisecond: the store orders them by their random ids.
    keys: s.registries.keys.list().sort((a, b) => a.agent.localeCompare(b.agent)),
    switches: s.registries.switches.list(),
    budgets: s.registries.ledger.budgets(),
    levels: s.registries.levels.list(),
    approvals: await s.approvals.list(admin, 'all', 10),
    tokens: (await s.tokens.list(admin)).map(({ name, team }) => ({ name, team })),
  };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'no error';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

/** One operator's session through the services: keys, kills, budgets, levels, approvals, tokens. */
async function scenario(store: ServiceStore): Promise<Record<string, unknown>> {
  const s = await services(store);
  const out: Record<string, unknown> = {};
  const billing = await s.keys.create(admin, s.keys.parse(admin, { agent: 'billing-bot', team: 'payments', models: ['gpt-4o*'] }));
  const etl = await s.keys.create(admin, s.keys.parse(admin, { agent: 'etl', team: 'data' }));
  out.otherTeamsAgent = await codeOf(s.keys.create(payments, s.keys.parse(payments, { agent: 'etl', team: 'payments' })));
  out.teamKill = await s.kills.engage(admin, { scope: 'team', target: 'data', reason: 'incident' });
  out.teamKillByOtherTeam = await codeOf(s.kills.engage(payments, { scope: 'team', target: 'data', reason: null }));
  out.released = await s.kills.release(admin, 'team', 'data');
  out.releasedTwice = await codeOf(s.kills.release(admin, 'team', 'data'));
  out.rotated = (await s.keys.rotate(admin, etl.key.id)).secret !== etl.secret;
  out.revoked = await s.keys.revoke(payments, billing.key.id);
  out.revokedAgain = await s.keys.revoke(payments, billing.key.id);
  out.budget = await s.budgets.put(payments, 'team', 'payments', { daily: 10, monthly: 100 });
  await s.budgets.put(admin, 'agent', 'etl', { weekly: 5 });
  out.budgetRemoved = await s.budgets.put(admin, 'agent', 'etl', {});
  out.budgetList = s.budgets.list(payments);
  out.spend = await s.budgets.spend(admin, 'team', 'daily');
  out.levelKill = await s.enforcement.setByOperator(admin, 'etl', { level: 'kill', reason: 'runaway' });
  out.etlKilled = s.kills.isEngaged('agent', 'etl');
  out.levelThrottle = await s.enforcement.setByOperator(admin, 'etl', { level: 'throttle' });
  out.etlKilledAfter = s.kills.isEngaged('agent', 'etl');
  const waiting = s.approvals.ask(ask);
  // An operator sees the question once it is written (on PostgreSQL, a round trip later).
  let pending: ApprovalRecord | undefined;
  await eventually(async () => (pending = (await s.approvals.list(payments, 'pending', 10))[0]) !== undefined, 2000, 'the pending approval');
  out.pending = pending;
  out.pendingArguments = s.approvals.argumentsOf(pending!.id);
  out.decided = await s.approvals.decide(payments, pending!.id, 'approved', { reason: 'ok' });
  out.answer = await waiting;
  out.decidedTwice = await codeOf(s.approvals.decide(admin, pending!.id, 'denied', {}));
  const team = await s.tokens.create(admin, { name: 'payments-ops', team: 'payments' });
  out.tokenIssued = { name: team.view.name, team: team.view.team, prefix: team.token.slice(0, 6) };
  out.tokenTaken = await codeOf(s.tokens.create(admin, { name: 'payments-ops' }));
  await s.tokens.create(admin, { name: 'admin' });
  out.lastAdmin = await codeOf(s.tokens.delete(admin, 'admin'));
  out.tokenDeleted = (await s.tokens.delete(admin, 'payments-ops')).name;
  out.kills = s.kills.list(admin);
  out.keys = s.keys.list(admin);
  await s.approvals.close();
  out.reloaded = await reloaded(store);
  return normalized(out);
}

/** Ids and secrets are random: each is replaced by the order it first appeared in. */
function normalized(out: Record<string, unknown>): Record<string, unknown> {
  const ids = new Map<string, string>();
  const text = JSON.stringify(out, (k, v: unknown) => (k === 'hash' || k === 'prefix' ? '(random)' : v));
  return JSON.parse(text.replace(/\b(key|apr)_[A-Za-z0-9_-]{12}/g, (id) => ids.get(id) ?? (ids.set(id, `id${ids.size + 1}`), `id${ids.size}`))) as Record<string, unknown>;
}

const WRITE = /^(insert|update|put|delete|add|decide|expire)/;

/** `store` whose transactions fail at their second write, as a lost connection would. */
function failingSecondWrite(store: ServiceStore): ServiceStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop !== 'transaction') {
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      }
      return (fn: (tx: StoreOps) => Promise<unknown>) =>
        target.transaction((tx) => {
          let writes = 0;
          const flaky = new Proxy(tx, {
            get(t, p) {
              const v = Reflect.get(t, p) as (...a: unknown[]) => unknown;
              return (...args: unknown[]) => {
                if (WRITE.test(String(p)) && ++writes === 2) throw new Error('connection lost');
                return v.apply(t, args);
              };
            },
          });
          return fn(flaky);
        });
    },
  });
}

/** A revocation whose kill switch cannot be written leaves the key live, on disk and in memory. */
async function revokeHalfway(store: ServiceStore) {
  const s = await services(store);
  const { key } = await s.keys.create(admin, s.keys.parse(admin, { agent: 'half-bot', team: 'payments' }));
  const flaky = await services(failingSecondWrite(store));
  const refused = await codeOf(flaky.keys.revoke(admin, key.id));
  const level = await codeOf(flaky.enforcement.setByOperator(admin, 'half-bot', { level: 'kill' }));
  return {
    refused,
    level,
    inMemory: { revoked: flaky.registries.keys.get(key.id)!.revokedAt, killed: flaky.kills.isEngaged('agent', 'half-bot'), level: flaky.enforcement.levelOf('half-bot').level },
    onDisk: { revoked: (await store.listKeys())[0]!.revokedAt, kills: await store.listKills(), levels: await store.listAgentLevels() },
  };
}

postgresSuite(() => {
  let pg: PostgresServer;
  let n = 0;
  sharedPostgres((server) => (pg = server));

  async function stores(t: ExecutionContext): Promise<{ pgStore: PgStore; sqlite: SqliteStore }> {
    const pgStore = await PgStore.open(await pg.createDatabase(`services_${++n}`));
    const dir = mkdtempSync(join(tmpdir(), 'altrace-services-parity-'));
    const sqlite = new SqliteStore(dir);
    t.teardown(async () => {
      sqlite.close();
      rmSync(dir, { recursive: true, force: true });
      await pgStore.close();
    });
    return { pgStore, sqlite };
  }

  test('the services answer the same on SqliteStore and on PgStore, and a restart reads back the same state', async (t) => {
    const { pgStore, sqlite } = await stores(t);
    const onPg = await scenario(pgStore);
    const onSqlite = await scenario(sqlite);
    t.deepEqual(onPg, onSqlite);
    // The values themselves, not only agreement.
    t.is(onPg.otherTeamsAgent, 'ALT_AGENT_IN_OTHER_TEAM');
    t.is(onPg.releasedTwice, 'ALT_NOT_FOUND');
    t.like(onPg.revoked, { kill: { scope: 'agent', target: 'billing-bot', reason: 'key id1 revoked' } });
    t.like(onPg.revokedAgain, { kill: null });
    t.true(onPg.etlKilled as boolean);
    t.false(onPg.etlKilledAfter as boolean);
    t.like(onPg.answer, { outcome: 'approved', by: 'payments-ops' });
    t.is(onPg.decidedTwice, 'ALT_APPROVAL_DECIDED');
    t.is(onPg.lastAdmin, 'ALT_CONFLICT');
    const r = onPg.reloaded as Record<string, Record<string, unknown>[]>;
    t.deepEqual(r.switches!.map((k) => [k.scope, k.target]), [['agent', 'billing-bot']], 'the kill of the revocation, and no other');
    t.deepEqual(r.budgets!.map((b) => [b.scope, b.target, b.limits]), [['team', 'payments', { daily: 10, weekly: null, monthly: 100 }]]);
    t.deepEqual(r.levels!.map((l) => [l.agent, l.level]), [['etl', 'throttle']]);
    t.deepEqual(r.approvals!.map((a) => [a.status, a.decidedBy]), [['approved', 'payments-ops']]);
    t.deepEqual(r.keys!.map((k) => [k.agent, k.revokedAt !== null]), [['billing-bot', true], ['etl', false]]);
    t.deepEqual(r.tokens, [{ name: 'admin', team: null }]);
  });

  // Regression: close() answered only the approvals whose question was already written, so a
  // request asking while the agent shut down waited out its whole timeout.
  test('a shutdown while an approval is being written still answers the waiting request', async (t) => {
    const { pgStore } = await stores(t);
    const s = await services(pgStore);
    const waiting = s.approvals.ask(ask);
    await s.approvals.close();
    t.like(await waiting, { outcome: 'expired', reason: 'the agent is shutting down' });
  });

  test('a multi-write action whose second write fails commits nothing and changes nothing in memory, on both stores', async (t) => {
    const { pgStore, sqlite } = await stores(t);
    const onPg = await revokeHalfway(pgStore);
    t.deepEqual(onPg, await revokeHalfway(sqlite));
    t.deepEqual(onPg, {
      refused: 'Error: connection lost',
      level: 'Error: connection lost',
      inMemory: { revoked: null, killed: false, level: 'normal' },
      onDisk: { revoked: null, kills: [], levels: [] },
    });
    // Nothing of the refused actions reached the change log the nodes follow: only the key's creation.
    t.deepEqual((await pgStore.changesSince(0)).map((c) => c.kind), ['key.put']);
  });
});
