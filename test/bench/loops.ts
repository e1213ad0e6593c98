// One data-plane loop against two (listen.loops), same run, same simulated provider, default
// chain: throughput unthrottled (alternating rounds, so both see the machine's drift alike),
// latency at a fixed rate as the client sees it, and the CPU each spends per request.
// On this 2-core VM the load generator and the simulated provider share the cores with the
// agent: two loops can at best take what one loop leaves idle (docs/scaling.md).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DURATION, RATE, cpuSeconds, f, issueKey, load, spawnJson, startAgent, stopAll } from './common.js';

async function main() {
  const dirs = [mkdtempSync(join(tmpdir(), 'altrace-bench-loops-1-')), mkdtempSync(join(tmpdir(), 'altrace-bench-loops-2-'))];
  try {
    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const simUrl = sim.info.url as string;
    const agents = [];
    for (const [i, loops] of [1, 2].entries()) {
      const a = await startAgent(simUrl, dirs[i]!, { ALTRACE_LOOPS: String(loops), ALTRACE_LOG_LEVEL: 'warn' });
      const key = await issueKey(a.controlUrl, `bench-${loops}`);
      agents.push({ name: `${loops} loop${loops > 1 ? 's' : ''}`, pid: a.child.pid!, url: a.proxyUrl, auth: { authorization: `Bearer ${key}` } });
    }
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    console.log(`# altrace bench — one data-plane loop against two (listen.loops), default chain, ${DURATION}s per measure\n`);
    for (const a of agents) await load(a.url, a.auth, chat, { connections: 50, seconds: 2 }); // warm-up: loops started, JIT warm

    const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
    const roundSeconds = Math.max(1, Math.round((2 * DURATION) / rounds));
    /** Mean throughput of two targets, unthrottled, in alternating rounds (so both see the machine's drift alike). */
    async function alternate(pair: { url: string; auth: Record<string, string> }[]): Promise<{ mean: number[]; perRound: string }> {
      const sums = [0, 0];
      const perRound: string[] = [];
      for (let round = 0; round < rounds; round++) {
        const got: number[] = [];
        for (const i of round % 2 === 0 ? [0, 1] : [1, 0]) got[i] = (await load(pair[i]!.url, pair[i]!.auth, chat, { connections: 50, seconds: roundSeconds })).rps;
        got.forEach((rps, i) => (sums[i]! += rps));
        perRound.push(got.map((r) => f(r, 0)).join('/'));
      }
      return { mean: sums.map((s) => s / rounds), perRound: perRound.join(', ') };
    }
    const governed = await alternate(agents);
    console.log(`throughput, unthrottled, 50 connections, ${rounds} alternating rounds of ${roundSeconds} s: 1 loop ${f(governed.mean[0]!, 0)} req/s, 2 loops ${f(governed.mean[1]!, 0)} req/s → ratio ${f(governed.mean[1]! / governed.mean[0]!)}   (1/2 per round: ${governed.perRound})`);
    // The ceiling on this machine: a bare pass-through on one loop and on two (the same reusePort sharing), no governance.
    const bare = [];
    for (const loops of [1, 2]) bare.push({ url: `http://127.0.0.1:${(await spawnJson('dist/test/bench/bare-proxy.js', [simUrl, String(loops)])).info.port}`, auth: {} });
    for (const b of bare) await load(b.url, b.auth, chat, { connections: 50, seconds: 2 });
    const ceiling = await alternate(bare);
    console.log(`  the same for a bare Node pass-through (no governance): 1 loop ${f(ceiling.mean[0]!, 0)} req/s, 2 loops ${f(ceiling.mean[1]!, 0)} req/s → ratio ${f(ceiling.mean[1]! / ceiling.mean[0]!)}   (1/2 per round: ${ceiling.perRound})`);

    for (const a of agents) {
      const cpu0 = cpuSeconds(a.pid);
      const r = await load(a.url, a.auth, chat, { connections: 50, rate: RATE });
      const us = ((cpuSeconds(a.pid) - cpu0) / (r.rps * DURATION)) * 1e6;
      console.log(`  ${a.name} at ${RATE} req/s: p50 ${r.p50} ms, p99 ${r.p99} ms (${f(r.rps, 0)} req/s, ${r.errors} errors), CPU per request ${f(us, 0)} µs (all threads of the process)`);
    }
  } finally {
    await stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
