// What both benchmarks share: child processes, load runs, and reading the agent's own clocks.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { ROOT, spawnAgent, type AgentProcess } from '../helpers/process.js';

export const DURATION = Number(process.env.BENCH_SECONDS ?? 8);
export const RATE = Number(process.env.BENCH_RATE ?? 1000);
export const ADMIN = 'altop-bench-admin-token-000000';
const children: ChildProcess[] = [];
const agents: AgentProcess[] = [];

/** A helper process that prints one JSON line when it listens (the simulator, the bare proxy). */
export async function spawnJson(script: string, args: string[] = []): Promise<{ child: ChildProcess; info: any }> {
  const child = spawn(process.execPath, [join(ROOT, script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, info: JSON.parse(line) };
}

/** `altrace start` with the default chain and info logs (one decision line per request, as in production). */
export async function startAgent(simUrl: string, stateDir: string, env: Record<string, string> = {}): Promise<AgentProcess> {
  const a = await spawnAgent({
    ALTRACE_STATE_DIR: stateDir,
    ALTRACE_ADMIN_TOKEN: ADMIN,
    ALTRACE_OPENAI_BASE_URL: `${simUrl}/v1`,
    ALTRACE_LOG_LEVEL: 'info',
    OPENAI_API_KEY: 'sk-bench-real',
    ...env,
  });
  agents.push(a);
  return a;
}

export async function stopAll(): Promise<void> {
  for (const a of agents) await a.stop();
  for (const c of children) c.kill('SIGTERM');
}

export async function issueKey(control: string, agent: string, team = 'bench'): Promise<string> {
  const res = await fetch(`${control}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent, team }) });
  return ((await res.json()) as { key: string }).key;
}

export async function load(url: string, headers: Record<string, string>, body: string, opts: { rate?: number; connections: number; seconds?: number }) {
  const r = await autocannon({
    url: `${url}/v1/chat/completions`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    duration: opts.seconds ?? DURATION,
    connections: opts.connections,
    ...(opts.rate ? { overallRate: opts.rate } : {}),
  });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, errors: r.errors + r.non2xx };
}

/** User + system CPU seconds a process has used so far (all its threads). */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

type Buckets = Map<number, number>;

/** Cumulative bucket counts of a Prometheus histogram, summed over its label sets. */
export async function histogram(control: string, name: string): Promise<Buckets> {
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
export function quantileMs(after: Buckets, before: Buckets, q: number): number {
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

export const pct = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
export const f = (x: number, d = 2) => x.toFixed(d);
