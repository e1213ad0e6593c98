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
    ALTRACE_LOG_LEVEL: 'warn',
    OPENAI_API_KEY: 'sk-bench-real',
  };
  const child = spawn(process.execPath, [join(ROOT, 'bin/altrace.js'), 'start'], { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  for await (const line of createInterface({ input: child.stderr! })) if (line.includes('control API')) break;
  return { child, url: 'http://127.0.0.1:18080', control: 'http://127.0.0.1:17070' };
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function load(url: string, headers: Record<string, string>, body: string, opts: { rate?: number; connections: number }) {
  const r = await autocannon({ url: `${url}/v1/chat/completions`, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, duration: DURATION, connections: opts.connections, ...(opts.rate ? { overallRate: opts.rate } : {}) });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, errors: r.errors + r.non2xx };
}

/** Quantile from a Prometheus histogram, interpolated within its bucket. */
async function histogramQuantile(control: string, name: string, q: number): Promise<number> {
  const text = await (await fetch(`${control}/metrics`)).text();
  const buckets: [number, number][] = [];
  for (const line of text.split('\n')) {
    const m = new RegExp(`^${name}_bucket\\{(?:[^}]*,)?le="([^"]+)"[^}]*\\} (\\d+)`).exec(line);
    if (m) buckets.push([m[1] === '+Inf' ? Infinity : Number(m[1]), Number(m[2])]);
  }
  const merged = new Map<number, number>();
  for (const [le, n] of buckets) merged.set(le, (merged.get(le) ?? 0) + n);
  const sorted = [...merged.entries()].sort((a, b) => a[0] - b[0]);
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

    console.log(`# altrace bench — ${DURATION}s per run, fixed rate ${RATE} req/s, full default chain\n`);
    // warm-up
    await load(agent.url, auth, chat, { connections: 10, rate: 200 });
    const direct = await load(simUrl, {}, chat, { connections: 50, rate: RATE });
    const bareFixed = await load(bareUrl, {}, chat, { connections: 50, rate: RATE });
    const alt = await load(agent.url, auth, chat, { connections: 50, rate: RATE });
    const overheadP50 = await histogramQuantile(agent.control, 'altrace_proxy_overhead_seconds', 0.5);
    const overheadP99 = await histogramQuantile(agent.control, 'altrace_proxy_overhead_seconds', 0.99);
    console.log('non-streaming chat completions at fixed rate (autocannon, whole ms):');
    console.log(`  direct  p50 ${direct.p50} ms  p99 ${direct.p99} ms  (${f(direct.rps, 0)} req/s, ${direct.errors} errors)`);
    console.log(`  bare    p50 ${bareFixed.p50} ms  p99 ${bareFixed.p99} ms`);
    console.log(`  altrace p50 ${alt.p50} ms  p99 ${alt.p99} ms  (${f(alt.rps, 0)} req/s, ${alt.errors} errors)`);
    console.log(`  added latency, self-timed (x-altrace-overhead-ms histogram): p50 ${f(overheadP50, 3)} ms  p99 ${f(overheadP99, 3)} ms   [targets 0.3 / 1.5]`);

    const bareMax = await load(bareUrl, {}, chat, { connections: 50 });
    const altMax = await load(agent.url, auth, chat, { connections: 50 });
    console.log(`\nthroughput, unthrottled, 50 connections: bare ${f(bareMax.rps, 0)} req/s, altrace ${f(altMax.rps, 0)} req/s → ratio ${f(altMax.rps / bareMax.rps)}   [target ≥ 0.70]`);

    const directTtfb = await ttfb(simUrl, {}, stream, 300);
    const altTtfb = await ttfb(agent.url, auth, stream, 300);
    console.log(`\nstreaming, time to first fragment (300 sequential): direct p50 ${f(pct(directTtfb, 0.5), 3)} ms, altrace p50 ${f(pct(altTtfb, 0.5), 3)} ms → overhead p50 ${f(pct(altTtfb, 0.5) - pct(directTtfb, 0.5), 3)} ms, p99 ${f(pct(altTtfb, 0.99) - pct(directTtfb, 0.99), 3)} ms`);
    const fragP50 = await histogramQuantile(agent.control, 'altrace_fragment_overhead_seconds', 0.5);
    const fragP99 = await histogramQuantile(agent.control, 'altrace_fragment_overhead_seconds', 0.99);
    console.log(`  per-fragment overhead (self-timed, deny patterns on the worker pool): p50 ${f(fragP50, 3)} ms  p99 ${f(fragP99, 3)} ms   [target p99 ≤ 0.2]`);
    console.log(`\nRSS of the agent after the runs: ${f(rssMb(agent.child.pid!), 1)} MB   [target ≤ 200]`);
  } finally {
    for (const c of children) c.kill('SIGTERM');
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
