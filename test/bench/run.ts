// `npm run bench`: ratios measured in one run on this machine. Baselines: direct to the
// simulated provider, and a bare Node pass-through proxy. Each server runs in its own process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { request } from 'undici';

const ROOT = new URL('../../../', import.meta.url).pathname;
const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
const RATE = Number(process.env.BENCH_RATE ?? 1000);
const children: ChildProcess[] = [];
/** The flags `npm start` and the `altrace` shebang run the agent with (package.json, bin/altrace.js). */
const AGENT_NODE_FLAGS = ['--max-semi-space-size=8'];

async function spawnJson(args: string[], env: Record<string, string> = {}): Promise<{ child: ChildProcess; info: any }> {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, info: JSON.parse(line) };
}

async function startAgent(simUrl: string, stateDir: string): Promise<{ child: ChildProcess; url: string; control: string }> {
  const env = {
    ALTRACE_PROXY_PORT: '18080',
    ALTRACE_CONTROL_PORT: '17070',
    ALTRACE_STATE_DIR: stateDir,
    ALTRACE_ADMIN_TOKEN: 'altop-bench-admin-token-000000',
    ALTRACE_OPENAI_BASE_URL: `${simUrl}/v1`,
    // Default log level (info): one decision line per request, as in production.
    OPENAI_API_KEY: 'sk-bench-real',
  };
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, join(ROOT, 'bin/altrace.js'), 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stderr! })) if (line.includes('control API')) break;
  return { child, url: 'http://127.0.0.1:18080', control: 'http://127.0.0.1:17070' };
}

/** User + system CPU seconds a process has used so far (all its threads). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function load(url: string, headers: Record<string, string>, body: string, opts: { rate?: number; connections: number }) {
  const r = await autocannon({ url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duration: DURATION, connections: opts.connections, ...(opts.rate ? { overallRate: opts.rate } : {}) });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, errors: r.errors + r.non2xx };
}

type Buckets = Map<number, number>;

/** Cumulative bucket counts of a Prometheus histogram, summed over its label sets. */
async function histogram(control: string, name: string): Promise<Buckets> {
  const text = await (await fetch(`${control}/metrics`)).text();
  const merged: Buckets = new Map();
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\d+)`).exec(line);
    if (m) {
      const le = m[1] === '+Inf' ? Infinity : Number(m[1]);
      merged.set(le, (merged.get(le) ?? 0) + Number(m[2]));
    }
  }
  return merged;
}

/** Quantile (ms) of what a histogram recorded between two snapshots, interpolated within its bucket. */
function quantileMs(after: Buckets, before: Buckets, q: number): number {
  const sorted = [...after.entries()].map(([le, n]) => [le, n - (before.get(le) ?? 0)] as [number, number]).sort((a, b) => a[0] - b[0]);
  const total = sorted[sorted.length - 1]?.[1] ?? 0;
  let prevLe = 0;
  let prevN = 0;
  for (const [le, n] of sorted) {
    if (n >= q * total) {
      if (le === Infinity) return prevLe * 1000;
      return (prevLe + ((q * total - prevN) / Math.max(1, n - prevN)) * (le - prevLe)) * 1000;
    }
    prevLe = le;
    prevN = n;
  }
  return NaN;
}

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

const pct = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const f = (x: number, d = 2) => x.toFixed(d);

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-bench-'));
  try {
    const sim = await spawnJson([join(ROOT, 'dist/test/fixtures/simulator/main.js'), '--no-record']);
    const simUrl = sim.info.url as string;
    const bare = await spawnJson([join(ROOT, 'dist/test/bench/bare-proxy.js'), simUrl]);
    const bareUrl = `http://127.0.0.1:${bare.info.port}`;
    const agent = await startAgent(simUrl, stateDir);
    const keyRes = await fetch(`${agent.control}/api/v1/keys`, { method: 'POST', headers: { authorization: 'Bearer altop-bench-admin-token-000000', 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'bench', team: 'bench' }) });
    const key = ((await keyRes.json()) as { key: string }).key;
    const auth = { authorization: `Bearer ${key}` };
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    const stream = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hello there' }] });

    const overheadName = 'altrace_proxy_overhead_seconds';
    const fragmentName = 'altrace_fragment_overhead_seconds';
    console.log(`# altrace bench — ${DURATION}s per run, fixed rate ${RATE} req/s, full default chain, info logs\n`);
    await load(agent.url, auth, chat, { connections: 10, rate: 200 }); // warm-up
    await load(bareUrl, {}, chat, { connections: 10, rate: 200 });
    const direct = await load(simUrl, {}, chat, { connections: 50, rate: RATE });
    const bareCpu0 = cpuSeconds(bare.child.pid!);
    const bareFixed = await load(bareUrl, {}, chat, { connections: 50, rate: RATE });
    const bareCpu = cpuSeconds(bare.child.pid!) - bareCpu0;
    const overheadBefore = await histogram(agent.control, overheadName);
    const altCpu0 = cpuSeconds(agent.child.pid!);
    const alt = await load(agent.url, auth, chat, { connections: 50, rate: RATE });
    const altCpu = cpuSeconds(agent.child.pid!) - altCpu0;
    const overheadAfter = await histogram(agent.control, overheadName);
    const bareUs = (bareCpu / (bareFixed.rps * DURATION)) * 1e6;
    const altUs = (altCpu / (alt.rps * DURATION)) * 1e6;
    console.log('non-streaming chat completions at a fixed rate (autocannon, whole ms):');
    console.log(`  direct  p50 ${direct.p50} ms  p99 ${direct.p99} ms  (${f(direct.rps, 0)} req/s, ${direct.errors} errors)`);
    console.log(`  bare    p50 ${bareFixed.p50} ms  p99 ${bareFixed.p99} ms  (${f(bareFixed.rps, 0)} req/s, ${bareFixed.errors} errors)`);
    console.log(`  altrace p50 ${alt.p50} ms  p99 ${alt.p99} ms  (${f(alt.rps, 0)} req/s, ${alt.errors} errors)`);
    console.log(`  added latency, self-timed: p50 ${f(quantileMs(overheadAfter, overheadBefore, 0.5), 3)} ms  p99 ${f(quantileMs(overheadAfter, overheadBefore, 0.99), 3)} ms   [targets 0.3 / 1.5]`);
    console.log(`  CPU per request: bare ${f(bareUs, 0)} µs, altrace ${f(altUs, 0)} µs → capacity ratio ${f(bareUs / altUs)}`);

    // Unthrottled, alternating, two rounds each: the load generator and simulator share the
    // two cores with the proxy under test, so one round of each is at the mercy of the scheduler.
    let bareSum = 0;
    let altSum = 0;
    for (let round = 0; round < 2; round++) {
      bareSum += (await load(bareUrl, {}, chat, { connections: 50 })).rps;
      altSum += (await load(agent.url, auth, chat, { connections: 50 })).rps;
    }
    console.log(`\nthroughput, unthrottled, 50 connections, 2 alternating rounds: bare ${f(bareSum / 2, 0)} req/s, altrace ${f(altSum / 2, 0)} req/s → ratio ${f(altSum / bareSum)}   [target ≥ 0.70]`);

    const directTtfb = await ttfb(simUrl, {}, stream, 300);
    const bareTtfb = await ttfb(bareUrl, {}, stream, 300);
    const altTtfb = await ttfb(agent.url, auth, stream, 300);
    const over = (xs: number[], q: number) => f(pct(xs, q) - pct(directTtfb, q), 3);
    console.log(`\nstreaming, time to first fragment over direct (300 sequential): bare p50 ${over(bareTtfb, 0.5)} ms p99 ${over(bareTtfb, 0.99)} ms; altrace p50 ${over(altTtfb, 0.5)} ms p99 ${over(altTtfb, 0.99)} ms`);

    // Fragments paced the way a model emits tokens (one per upstream chunk), 20 streams at once.
    await fetch(`${simUrl}/__sim/script`, { method: 'POST', body: JSON.stringify({ default: { fragmentDelayMs: 2 } }) });
    const fragBefore = await histogram(agent.control, fragmentName);
    await load(agent.url, auth, stream, { connections: 20, rate: 200 });
    const fragAfter = await histogram(agent.control, fragmentName);
    console.log(`  per-fragment overhead, self-timed (20 concurrent paced streams): p50 ${f(quantileMs(fragAfter, fragBefore, 0.5), 3)} ms  p99 ${f(quantileMs(fragAfter, fragBefore, 0.99), 3)} ms   [target p99 ≤ 0.2]`);
    console.log(`\nRSS of the agent after the runs: ${f(rssMb(agent.child.pid!), 1)} MB   [target ≤ 200]`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
