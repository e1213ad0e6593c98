// Budget overrun across nodes (issue 19, docs/fleet.md "Budgets: leases"), measured in one run:
//   leases        3 nodes of a real fleet (PostgreSQL, 2 replicas) spend one team budget through leases;
//   periodic sync 3 single-node agents, each enforcing the whole limit, whose spend a driver
//                 exchanges every SYNC_MS (each node's limit = the budget − what the others spent):
//                 the design leases replace.
// Both face the same load: 3 × CONCURRENCY loops of requests against the last dollars of one
// budget, the provider reporting 1.5× the output tokens asked for (a provider that bills more
// than was reserved: the only way any design overruns a hard budget). Printed: the overrun
// observed, and the bound the lease design states (the leases outstanding at the last grant, each
// adding at most its excess: ≤ nodes × lease size × 0.5 here).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startPostgres } from '../fixtures/postgres.js';
import { SimulatedProvider } from '../fixtures/simulator/index.js';
import { call, startFleet } from '../helpers/fleet.js';
import { ADMIN_TOKEN, simulatorEnv } from '../helpers/harness.js';
import { spawnAgent, type AgentProcess } from '../helpers/process.js';

const LIMIT = Number(process.env.BENCH_BUDGET_USD ?? 0.5);
const CONCURRENCY = Number(process.env.BENCH_BUDGET_CONCURRENCY ?? 30);
const SYNC_MS = Number(process.env.BENCH_SYNC_MS ?? 1000);
const MAX_TOKENS = 100;
/** gpt-4o: $2.50 / $10 per million; the provider reports 5 input and 150 output tokens. */
const COST = (5 * 2.5 + 150 * 10) / 1e6;
const USAGE = { input: 5, output: 150 };

interface Result {
  answered: number;
  spent: number;
  seconds: number;
}

/** Requests from every node's loops until the whole fleet has refused for a second; what the provider answered, at its price. */
async function spendDown(proxies: string[], key: string): Promise<Result> {
  const started = Date.now();
  let answered = 0;
  let lastOk = Date.now();
  const loop = async (proxy: string) => {
    while (Date.now() - lastOk < 1000) {
      const res = await fetch(`${proxy}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o', max_tokens: MAX_TOKENS, messages: [{ role: 'user', content: 'hi' }] }),
      });
      await res.arrayBuffer();
      if (res.ok) {
        answered++;
        lastOk = Date.now();
      } else await sleep(20);
    }
  };
  await Promise.all(proxies.flatMap((p) => Array.from({ length: CONCURRENCY }, () => loop(p))));
  return { answered, spent: answered * COST, seconds: (Date.now() - started) / 1000 };
}

async function leases(): Promise<Result & { leaseUsd: number }> {
  const pg = await startPostgres();
  const fleet = await startFleet(pg, 'bench_budget', { replicas: 2, nodes: 3 });
  try {
    fleet.sim.defaultScript = { usage: USAGE };
    const created = (await (await call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'spender', team: 'spenders' })).json()) as { key: string; id: string };
    await call(fleet.replicas[1]!.controlUrl, 'PUT', '/budgets/team/spenders', { daily: LIMIT });
    await sleep(1500); // the key and the budget reach every node; each draws its first lease
    const r = await spendDown(fleet.nodes.map((n) => n.proxyUrl), created.key);
    // Nodes ask for a tenth of the limit; the control plane grants at most fleet.lease_max_usd (5).
    return { ...r, leaseUsd: Math.min(LIMIT / 10, 5) };
  } finally {
    await fleet.close();
    await pg.stop();
  }
}

async function periodicSync(): Promise<Result> {
  const sim = await new SimulatedProvider().start();
  sim.defaultScript = { usage: USAGE };
  const dir = mkdtempSync(join(tmpdir(), 'altrace-bench-sync-'));
  const nodes: AgentProcess[] = [];
  try {
    for (let i = 0; i < 3; i++) nodes.push(await spawnAgent({ ...simulatorEnv(sim.url), ALTRACE_STATE_DIR: join(dir, `node-${i}`), ALTRACE_ADMIN_TOKEN: ADMIN_TOKEN }));
    // The same agent keyed on each node (islands: each has its own keys); node i's loops use node i's key.
    const keys = await Promise.all(nodes.map(async (n) => ((await (await call(n.controlUrl, 'POST', '/keys', { agent: 'spender', team: 'spenders' })).json()) as { key: string }).key));
    for (const n of nodes) await call(n.controlUrl, 'PUT', '/budgets/team/spenders', { daily: LIMIT });
    let running = true;
    const sync = (async () => {
      while (running) {
        await sleep(SYNC_MS);
        const spent = await Promise.all(
          nodes.map(async (n) => ((await (await call(n.controlUrl, 'GET', '/spend?by=team&window=daily')).json()) as { rows: { team: string; usd: number }[] }).rows.find((r) => r.team === 'spenders')?.usd ?? 0),
        );
        const total = spent.reduce((a, b) => a + b, 0);
        await Promise.all(nodes.map((n, i) => call(n.controlUrl, 'PUT', '/budgets/team/spenders', { daily: Math.max(0, LIMIT - (total - spent[i]!)) })));
      }
    })();
    const results = await Promise.all(nodes.map((n, i) => spendDown([n.proxyUrl], keys[i]!)));
    running = false;
    await sync;
    return { answered: results.reduce((a, r) => a + r.answered, 0), spent: results.reduce((a, r) => a + r.spent, 0), seconds: Math.max(...results.map((r) => r.seconds)) };
  } finally {
    for (const n of nodes) await n.stop();
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const usd = (n: number) => `$${n.toFixed(4)}`;
const lease = await leases();
const synced = await periodicSync();
const bound = 3 * lease.leaseUsd * ((USAGE.output - MAX_TOKENS) / MAX_TOKENS);
console.log(`\nbudget overrun across 3 nodes: $${LIMIT} team budget, ${CONCURRENCY} loops per node, provider billing ${USAGE.output}/${MAX_TOKENS} of the output reserved`);
console.log(`  leases         ${lease.answered} answered, spent ${usd(lease.spent)}: overrun ${usd(Math.max(0, lease.spent - LIMIT))} (${((Math.max(0, lease.spent - LIMIT) / LIMIT) * 100).toFixed(1)}% of the budget); bound ${usd(bound)} (3 nodes × lease ${usd(lease.leaseUsd)} × excess 0.5) — ${lease.spent - LIMIT <= bound + 1e-9 ? 'within' : 'OVER'} the bound`);
console.log(`  periodic sync  ${synced.answered} answered, spent ${usd(synced.spent)}: overrun ${usd(Math.max(0, synced.spent - LIMIT))} (${((Math.max(0, synced.spent - LIMIT) / LIMIT) * 100).toFixed(1)}% of the budget), spend exchanged every ${SYNC_MS} ms`);
if (lease.spent - LIMIT > bound + 1e-9) process.exitCode = 1;
