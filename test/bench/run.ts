// `npm run bench`: ratios measured in one run on this machine. Baselines: direct to the
// simulated provider, and a bare Node pass-through proxy. Each server runs in its own process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { nginxMissing, startNginx, type Nginx } from './nginx.js';
import { DURATION, RATE, cpuSeconds, f, histogram, issueKey, load, pct, quantileMs, rssMb, spawnJson, startAgent, stopAll } from './common.js';

async function ttfb(url: string, headers: Record<string, string>, body: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
    for await (const _ of res.body) {
      out.push(performance.now() - t0);
      break;
    }
    await res.body.dump().catch(() => {});
  }
  return out.sort((a, b) => a - b);
}

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-bench-'));
  try {
    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const simUrl = sim.info.url as string;
    const bare = await spawnJson('dist/test/bench/bare-proxy.js', [simUrl]);
    const bareUrl = `http://127.0.0.1:${bare.info.port}`;
    const a = await startAgent(simUrl, stateDir);
    const agent = { child: a.child, url: a.proxyUrl, control: a.controlUrl };
    const key = await issueKey(agent.control, 'bench');
    const auth = { authorization: `Bearer ${key}` };
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    const stream = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello there' }] });

    const overheadName = 'altrace_proxy_overhead_seconds';
    const fragmentName = 'altrace_fragment_overhead_seconds';
    console.log(`# altrace bench — ${DURATION}s per run, fixed rate ${RATE} req/s, full default chain, info logs\n`);
    // RSS after each phase: which load leaves the memory behind.
    const rss: string[] = [`start ${f(rssMb(agent.child.pid!), 0)}`];
    const mark = (phase: string) => {
      rss.push(`${phase} ${f(rssMb(agent.child.pid!), 0)}`);
      if (process.env.BENCH_MEMORY_DETAIL) void fetch(`${agent.control}/metrics`).catch(() => null).then(async (r) => r && console.error(phase, (await r.text()).split('\n').filter((l) => /^altrace_nodejs_heap_space_size_(total|used)_bytes\{space="old"|^altrace_process_resident/.test(l)).map((l) => l.replace(/altrace_nodejs_heap_space_size_total_bytes/, '')).join(' ')));
    };
    await load(agent.url, auth, chat, { connections: 10, rate: 200 }); // warm-up
    mark('warm-up');
    await load(bareUrl, {}, chat, { connections: 10, rate: 200 });
    const direct = await load(simUrl, {}, chat, { connections: 50, rate: RATE });
    const bareCpu0 = cpuSeconds(bare.child.pid!);
    const bareFixed = await load(bareUrl, {}, chat, { connections: 50, rate: RATE });
    const bareCpu = cpuSeconds(bare.child.pid!) - bareCpu0;
    const overheadBefore = await histogram(agent.control, overheadName);
    const altCpu0 = cpuSeconds(agent.child.pid!);
    const alt = await load(agent.url, auth, chat, { connections: 50, rate: RATE });
    const altCpu = cpuSeconds(agent.child.pid!) - altCpu0;
    mark('fixed-rate');
    const overheadAfter = await histogram(agent.control, overheadName);
    const bareUs = (bareCpu / (bareFixed.rps * DURATION)) * 1e6;
    const altUs = (altCpu / (alt.rps * DURATION)) * 1e6;
    console.log('non-streaming chat completions at a fixed rate (autocannon, whole ms):');
    console.log(`  direct  p50 ${direct.p50} ms  p99 ${direct.p99} ms  (${f(direct.rps, 0)} req/s, ${direct.errors} errors)`);
    console.log(`  bare    p50 ${bareFixed.p50} ms  p99 ${bareFixed.p99} ms  (${f(bareFixed.rps, 0)} req/s, ${bareFixed.errors} errors)`);
    console.log(`  altrace p50 ${alt.p50} ms  p99 ${alt.p99} ms  (${f(alt.rps, 0)} req/s, ${alt.errors} errors)`);
    console.log(`  added latency, self-timed: p50 ${f(quantileMs(overheadAfter, overheadBefore, 0.5), 3)} ms  p99 ${f(quantileMs(overheadAfter, overheadBefore, 0.99), 3)} ms   [targets 0.3 / 1.5]`);
    console.log(`  CPU per request: bare ${f(bareUs, 0)} µs, altrace ${f(altUs, 0)} µs → capacity ratio ${f(bareUs / altUs)}`);

    // Unthrottled, alternating. The load generator and simulator share the two cores with the
    // proxy under test, and this VM's speed drifts by tens of percent within seconds: short
    // rounds, in ABBA order, put both proxies through the same drift (same total time as two 8 s rounds).
    // nginx (one worker, keep-alive upstream) is the third: how far all this is from a C proxy.
    const missing = nginxMissing();
    const nginx: Nginx | null = missing ? null : await startNginx(simUrl);
    if (nginx) await load(nginx.url, {}, chat, { connections: 10, rate: 200, seconds: 2 });
    const rounds = Number(process.env.BENCH_ROUNDS ?? 4);
    const roundSeconds = Math.max(1, Math.round((2 * DURATION) / rounds));
    const targets: [string, string, Record<string, string>][] = [['bare', bareUrl, {}], ['altrace', agent.url, auth], ...(nginx ? [['nginx', nginx.url, {}] as [string, string, Record<string, string>]] : [])];
    const sums = new Map(targets.map(([name]) => [name, 0]));
    const perRound: string[] = [];
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? targets : [...targets].reverse();
      const got = new Map<string, number>();
      for (const [name, url, headers] of order) got.set(name, (await load(url, headers, chat, { connections: 50, seconds: roundSeconds })).rps);
      for (const [name, rps] of got) sums.set(name, sums.get(name)! + rps);
      perRound.push(targets.map(([name]) => f(got.get(name)!, 0)).join('/'));
      mark(`unthrottled-${round + 1}`);
    }
    await nginx?.stop();
    const mean = (name: string) => sums.get(name)! / rounds;
    console.log(`\nthroughput, unthrottled, 50 connections, ${rounds} alternating rounds of ${roundSeconds} s: bare ${f(mean('bare'), 0)} req/s, altrace ${f(mean('altrace'), 0)} req/s → ratio ${f(mean('altrace') / mean('bare'))}   [target ≥ 0.70]   (${targets.map(([n]) => n).join('/')} per round: ${perRound.join(', ')})`);
    if (nginx) console.log(`  against nginx (1 worker, keep-alive upstream): nginx ${f(mean('nginx'), 0)} req/s; altrace/nginx ${f(mean('altrace') / mean('nginx'))} [target ≥ 0.8], bare/nginx ${f(mean('bare') / mean('nginx'))}`);
    else console.log(`  against nginx: skipped — ${missing}`);

    const directTtfb = await ttfb(simUrl, {}, stream, 300);
    const bareTtfb = await ttfb(bareUrl, {}, stream, 300);
    const altTtfb = await ttfb(agent.url, auth, stream, 300);
    mark('ttfb');
    const over = (xs: number[], q: number) => f(pct(xs, q) - pct(directTtfb, q), 3);
    console.log(`\nstreaming, time to first fragment over direct (300 sequential): bare p50 ${over(bareTtfb, 0.5)} ms p99 ${over(bareTtfb, 0.99)} ms; altrace p50 ${over(altTtfb, 0.5)} ms p99 ${over(altTtfb, 0.99)} ms`);

    // Fragments paced the way a model emits tokens (one per upstream chunk), 20 streams at once.
    await fetch(`${simUrl}/__sim/script`, { method: 'POST', body: JSON.stringify({ default: { fragmentDelayMs: 2 } }) });
    const fragBefore = await histogram(agent.control, fragmentName);
    await load(agent.url, auth, stream, { connections: 20, rate: 200 });
    const fragAfter = await histogram(agent.control, fragmentName);
    console.log(`  per-fragment overhead, self-timed (20 concurrent paced streams): p50 ${f(quantileMs(fragAfter, fragBefore, 0.5), 3)} ms  p99 ${f(quantileMs(fragAfter, fragBefore, 0.99), 3)} ms   [target p99 ≤ 0.2]`);
    mark('fragments');
    console.log(`\nRSS of the agent after the runs: ${f(rssMb(agent.child.pid!), 1)} MB   [target ≤ 150]   (MB after each phase: ${rss.join(', ')})`);
    const reclaims = /^altrace_heap_reclaims_total (\S+)/m.exec(await (await fetch(`${agent.control}/metrics`)).text())?.[1] ?? '0';
    console.log(`heap reclaims the agent asked for during the runs (limits.heap_reclaim_mb): ${reclaims}`);
  } finally {
    await stopAll();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
