// A node cut off from its control plane for a minute (issue 19, "Bad input and faults"): the
// node's packets to both replicas' node-stream ports are dropped (nftables, on loopback) while
// the node, the replicas and PostgreSQL keep running. The node goes stale and refuses (fail
// closed); its budget lease expires on the control plane and is charged in full; a kill made
// meanwhile is acknowledged there. Healed, the node reconnects, applies the kill (no
// acknowledged action lost), and `altrace nodes` and both sides' logs say what happened.
import { execFileSync, spawnSync } from 'node:child_process';
import { nftSkipReason } from '../bpf/node-rig.js';
import test from 'ava';
import OpenAI from 'openai';
import { windowStartDay } from '../../proxy/src/index.js';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import { POSTGRES_SKIP_REASON, startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { suiteOrSkip } from '../bpf/suite.js';
import { eventually } from '../helpers/harness.js';
import { call, fleetMetrics, logLines, startFleet, type Fleet, type FleetNode } from '../helpers/fleet.js';

/** The partition's length: the minute. */
const PARTITION_MS = Number(process.env.ALTRACE_TEST_PARTITION_MS ?? 60_000);
const TABLE = 'altrace_test_partition';

// Read by the replicas (leases live 5 s unrenewed) and the node (stale after 5 s) this file spawns.
process.env.ALTRACE_FLEET_LEASE_TTL_S = '5';

const nft = (...args: string[]) => execFileSync('/usr/sbin/nft', args, { stdio: ['ignore', 'ignore', 'inherit'] });
const heal = () => void spawnSync('/usr/sbin/nft', ['delete', 'table', 'inet', TABLE], { stdio: 'ignore' });
// Also when ava ends the process (a timeout) before after.always runs: the rule must not outlive the test.
process.on('exit', heal);

suiteOrSkip('fleet partition test', POSTGRES_SKIP_REASON ?? nftSkipReason(), () => {
  let pg: PostgresServer;
  let fleet: Fleet;
  let node: FleetNode;
  test.before(async () => {
    pg = await startPostgres();
    fleet = await startFleet(pg, 'fleet_partition', { replicas: 2, nodes: 0 });
    node = await fleet.addNode('cut-off', { ALTRACE_FLEET_MAX_STALENESS_S: '5', ALTRACE_LOG_LEVEL: 'info' });
  });
  test.after.always(async () => {
    heal();
    await fleet?.close();
    await pg?.stop();
  });

  test('a node cut off for a minute: stale and refusing, its lease charged in full, the kill made meanwhile applied when healed', async (t) => {
    t.timeout(PARTITION_MS + 90_000);
    const created = (await (await call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'islander', team: 'ops' })).json()) as { key: string; id: string };
    t.is((await call(fleet.replicas[0]!.controlUrl, 'PUT', '/budgets/agent/islander', { daily: 1 })).status < 300, true);
    const store = await PgStore.open(fleet.databaseUrl);
    t.teardown(() => store.close());
    const w = { scope: 'agent' as const, target: 'islander', window: 'daily' as const, windowStart: windowStartDay('daily', Date.now()) };
    await eventually(async () => (await store.leases.outstanding(w)).length === 1, 5000, 'the node holds a lease');
    const [lease] = await store.leases.outstanding(w);
    const chat = async () => {
      try {
        await new OpenAI({ apiKey: created.key, baseURL: `${node.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
        return 'ok';
      } catch (err) {
        return String((err as InstanceType<typeof OpenAI.APIError>).code);
      }
    };
    t.is(await chat(), 'ok');

    // The cut: the node's packets to either replica's node-stream port are dropped.
    const ports = fleet.replicas.map((r) => new URL(r.fleetUrl).port).join(', ');
    nft('add', 'table', 'inet', TABLE);
    nft('add', 'chain', 'inet', TABLE, 'out', '{ type filter hook output priority 0; }');
    nft('add', 'rule', 'inet', TABLE, 'out', 'ip', 'daddr', '127.0.0.1', 'tcp', 'dport', `{ ${ports} }`, 'drop');
    const cutAt = Date.now();

    await eventually(async () => (await chat()) === 'ALT_FLEET_STALE', 15_000, 'the node refuses as stale (fail closed)');
    await eventually(async () => (await fleetMetrics(node)).altrace_fleet_stale === 1, 3000, 'altrace_fleet_stale 1 (the gauge is set every second)');
    // Meanwhile, on the control plane: a kill, acknowledged; the node's lease expires, charged in full.
    const kill = await call(fleet.replicas[1]!.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'islander', reason: 'while cut off' });
    t.is(kill.status, 201);
    await eventually(async () => (await store.leases.get(lease!.id))?.expired === true, 20_000, "the cut-off node's lease expired");
    const listed = async () => ((await (await call(fleet.replicas[0]!.controlUrl, 'GET', '/nodes')).json()) as { nodes: { name: string; last_contact: string; lag: number; leases_usd: number }[] }).nodes.find((n) => n.name === 'cut-off')!;
    const during = await listed();
    t.true(during.lag >= 1, `altrace nodes shows it behind (lag ${during.lag})`);
    t.is(during.leases_usd, 0, 'and holding no lease');
    await new Promise((r) => setTimeout(r, Math.max(0, PARTITION_MS - (Date.now() - cutAt))));
    t.is(await chat(), 'ALT_FLEET_STALE', 'still refusing at the end of the minute');

    heal();
    const healedAt = Date.now();
    await eventually(async () => (await chat()) === 'ALT_KILLED_AGENT', 15_000, 'healed, the node applied the kill made while it was cut off');
    t.log(`cut off ${((healedAt - cutAt) / 1000).toFixed(0)} s; the kill in force ${Date.now() - healedAt} ms after healing`);
    await eventually(async () => (await listed()).lag === 0, 5000, 'altrace nodes shows it caught up');
    t.true(Date.parse((await listed()).last_contact) >= healedAt, 'and in contact again');
    // The logs say what happened on each side.
    t.true(node.logs.some((l) => /fleet stream (failed|ended)/.test(l)), 'the node logged losing its stream');
    t.true(fleet.replicas.some((r) => logLines(r.logs, 'budget leases expired unreturned: charged in full').length > 0), 'a replica logged the expired lease');
  });
});
