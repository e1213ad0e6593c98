// `npm run bench` (second part): the control plane's costs, measured in one run.
//  - decisions per second with the audit log on vs off (two agents, alternating rounds)
//  - the kill-switch and budget stages' own evaluation time (in process, per call)
//  - from a kill's acknowledgement to the first refused request, and to the end of a stream
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import type { RequestStage } from '../../proxy/src/chain/stage.js';
import { budgetStage } from '../../proxy/src/chain/stages/budget.js';
import { killSwitch } from '../../proxy/src/chain/stages/kill-switch.js';
import { BudgetLedger } from '../../proxy/src/budget/ledger.js';
import { PriceTable } from '../../proxy/src/budget/prices.js';
import { KillSwitches } from '../../proxy/src/enforcement/kill-switches.js';
import { emptyCall } from '../../proxy/src/core/call-view.js';
import { loadPrices } from '../../agent/src/policy/load.js';
import { ROOT } from '../helpers/process.js';
import { ADMIN, DURATION, f, issueKey, load, pct, spawnJson, startAgent, stopAll } from './common.js';

const chat = JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 200, messages: [{ role: 'user', content: 'hello there' }] });

function context(i: number): RequestContext {
  const call = { ...emptyCall('openai', 'openai', 'chat'), model: 'gpt-4o-mini', maxTokens: 200 };
  call.messages = [{ role: 'user', text: 'hello there', toolCalls: [], toolResults: [] }];
  return {
    id: `r${i}`,
    headers: {},
    ingress: { method: 'POST', path: '/v1/chat/completions', routed: true, methodAllowed: true, contentType: 'application/json', bodyBytes: chat.length, tooLarge: false, jsonError: null, jsonTooDeep: false, shapeError: null, expectsBody: true },
    presented: { virtual: null, realIn: null, realValue: null },
    call,
    body: Buffer.from(chat),
    key: null,
    principal: { keyId: `key_${i % 500}`, agent: `agent-${i % 200}`, team: `team-${i % 20}` },
    charge: null,
    notes: [],
    json: undefined,
    rewritten: null,
    content: null,
  };
}

/** Each stage's evaluate, timed call by call, in microseconds. */
function stageTimes(stage: RequestStage, n: number, after?: (ctx: RequestContext) => void): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const ctx = context(i);
    const t0 = process.hrtime.bigint();
    stage.evaluate(ctx);
    out.push(Number(process.hrtime.bigint() - t0) / 1000);
    after?.(ctx);
  }
  return out;
}

async function post(url: string, headers: Record<string, string>, body: unknown) {
  return request(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function main() {
  const dirs = [mkdtempSync(join(tmpdir(), 'altrace-bench-on-')), mkdtempSync(join(tmpdir(), 'altrace-bench-off-'))];
  try {
    console.log(`\n# altrace control-plane bench — ${DURATION}s per run\n`);

    // Stage costs first, while the machine is quiet.
    const kills = new KillSwitches();
    for (let i = 0; i < 1000; i++) kills.engage({ scope: 'agent', target: `dead-${i}`, reason: null, by: 'bench', createdAt: 0 });
    const ledger = new BudgetLedger();
    for (let i = 0; i < 20; i++) ledger.setBudget({ scope: 'team', target: `team-${i}`, limits: { daily: 1e6, weekly: null, monthly: 1e7 }, by: 'bench', updatedAt: 0 });
    for (let i = 0; i < 200; i++) ledger.setBudget({ scope: 'agent', target: `agent-${i}`, limits: { daily: 1e5, weekly: 1e5, monthly: null }, by: 'bench', updatedAt: 0 });
    const prices: { current: PriceTable } = { current: loadPrices(join(ROOT, 'policies/prices.yaml')) };
    const warm = 20_000;
    stageTimes(killSwitch(kills), warm);
    const killUs = stageTimes(killSwitch(kills), 200_000);
    const settle = (ctx: RequestContext) => ctx.charge?.reservation && ledger.settle(ctx.charge.reservation, 0.0001);
    stageTimes(budgetStage(ledger, prices), warm, settle);
    const budgetUs = stageTimes(budgetStage(ledger, prices), 200_000, settle);
    console.log('stage evaluation, in process, 200k calls each (1000 engaged switches; 220 budgets over 4 scopes × 3 windows):');
    console.log(`  kill-switch  p50 ${f(pct(killUs, 0.5), 2)} µs  p99 ${f(pct(killUs, 0.99), 2)} µs`);
    console.log(`  budget       p50 ${f(pct(budgetUs, 0.5), 2)} µs  p99 ${f(pct(budgetUs, 0.99), 2)} µs  (price lookup, byte bound, reservation on 12 counters)`);

    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const simUrl = sim.info.url as string;
    const on = await startAgent(simUrl, dirs[0]!);
    const off = await startAgent(simUrl, dirs[1]!, { ALTRACE_AUDIT_ENABLED: 'false' });
    const onKey = await issueKey(on.controlUrl, 'bench');
    const offKey = await issueKey(off.controlUrl, 'bench');
    await load(on.proxyUrl, { authorization: `Bearer ${onKey}` }, chat, { connections: 10, rate: 200, seconds: 2 });
    await load(off.proxyUrl, { authorization: `Bearer ${offKey}` }, chat, { connections: 10, rate: 200, seconds: 2 });
    let onSum = 0;
    let offSum = 0;
    for (let round = 0; round < 2; round++) {
      offSum += (await load(off.proxyUrl, { authorization: `Bearer ${offKey}` }, chat, { connections: 50 })).rps;
      onSum += (await load(on.proxyUrl, { authorization: `Bearer ${onKey}` }, chat, { connections: 50 })).rps;
    }
    console.log(`\ndecisions per second, unthrottled, 50 connections, 2 alternating rounds: audit off ${f(offSum / 2, 0)}, audit on ${f(onSum / 2, 0)} → ratio ${f(onSum / offSum)}`);
    const verify = (await (await fetch(`${on.controlUrl}/api/v1/audit/verify`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as { ok: boolean; records: number; checkpoints: number };
    console.log(`  the audited agent's log afterwards: ${verify.records} records, ${verify.checkpoints} checkpoints, verifies: ${verify.ok}`);

    // Kill latency, measured by the client: acknowledgement → first refused request, → stream end.
    const ackMs: number[] = [];
    const refused: number[] = [];
    const streamEnd: number[] = [];
    const control = { authorization: `Bearer ${ADMIN}` };
    await fetch(`${simUrl}/__sim/script`, { method: 'POST', body: JSON.stringify({ default: { fragmentDelayMs: 20, text: 'word '.repeat(500) } }) });
    for (let i = 0; i < 20; i++) {
      const agent = `victim-${i}`;
      const key = await issueKey(on.controlUrl, agent);
      const auth = { authorization: `Bearer ${key}` };
      const stream = await post(`${on.proxyUrl}/v1/chat/completions`, auth, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'talk' }] });
      const streamDone = (async () => {
        for await (const _ of stream.body);
        return performance.now();
      })();
      await new Promise((r) => setTimeout(r, 50));
      const sent = performance.now();
      const kill = await post(`${on.controlUrl}/api/v1/kill`, control, { scope: 'agent', target: agent });
      await kill.body.dump();
      const ack = performance.now();
      ackMs.push(ack - sent);
      const next = await post(`${on.proxyUrl}/v1/chat/completions`, auth, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
      await next.body.dump();
      if (next.statusCode !== 403) throw new Error(`request after the kill answered ${next.statusCode}`);
      refused.push(performance.now() - ack);
      streamEnd.push((await streamDone) - sent);
    }
    console.log(`\nkill, 20 trials, as the operator's and the agent's clients see it:`);
    console.log(`  POST /kill sent → acknowledged (persisted, fsync):   p50 ${f(pct(ackMs, 0.5), 2)} ms  max ${f(Math.max(...ackMs), 2)} ms`);
    console.log(`  POST /kill sent → the stream under way has ended:    p50 ${f(pct(streamEnd, 0.5), 2)} ms  max ${f(Math.max(...streamEnd), 2)} ms   [target ≤ 100 ms after the ack]`);
    console.log(`  acknowledged → next request refused (a round trip):  p50 ${f(pct(refused, 0.5), 2)} ms  max ${f(Math.max(...refused), 2)} ms`);
    const before = streamEnd.filter((t, i) => t <= ackMs[i]!).length;
    console.log(`  streams already ended when the acknowledgement arrived: ${before} of 20`);
  } finally {
    await stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
