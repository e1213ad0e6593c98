// `npm run bench` (memory part): does the agent give memory back after heavy inputs? Two agents,
// one with the heap reclaimer on (the default) and one with it off, side by side, one simulator.
// RSS at rest, right after bursts of the largest bodies the agent accepts (and some it refuses),
// and while idling; the default agent must come back within a stated bound of its rest.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f, issueKey, load, rssMb, spawnJson, startAgent, stopAll } from './common.js';

/** Idle RSS may exceed the rested RSS by at most this much after the heavy phase. */
const IDLE_BOUND_MB = Number(process.env.BENCH_MEMORY_BOUND_MB ?? 60);
// Past the scan pool's one-minute idle timeout (proxy/src/scan/pool.ts): a worker's isolate goes with its thread.
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 70);
const HEAVY_ROUNDS = Number(process.env.BENCH_HEAVY_ROUNDS ?? 3);

function smaps(pid: number): string {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  return `anon ${f(kb('Anonymous'), 0)} MB, file ${f(kb('Rss') - kb('Anonymous'), 0)} MB`;
}

function threads(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
}

async function heapMb(control: string): Promise<string> {
  const text = await (await fetch(`${control}/metrics`)).text();
  const used = /^altrace_nodejs_heap_size_used_bytes (\S+)/m.exec(text);
  return used ? `${f(Number(used[1]) / 2 ** 20, 0)} MB` : '?';
}

/** Sends `body` with `concurrency` requests at a time, `total` in all; returns status counts. */
async function burst(url: string, headers: Record<string, string>, body: string | Buffer, total: number, concurrency: number): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < total) {
      next++;
      const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }).catch(() => null);
      const status = res?.status ?? 0;
      await res?.arrayBuffer().catch(() => null);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

const show = (m: Map<number, number>) => [...m].map(([s, n]) => `${n}×${s}`).join(' ');

interface Outcome {
  rested: number;
  peak: number;
  /** RSS this many seconds into the idle phase. */
  idle: Array<[number, number]>;
  heapIdle: string;
}

/** The heavy phase, then idling, against one agent; every line it prints is prefixed with `label`. */
async function scenario(label: string, simUrl: string, env: Record<string, string>): Promise<Outcome> {
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-bench-memory-'));
  try {
    const a = await startAgent(simUrl, stateDir, env);
    const pid = a.child.pid!;
    const say = (line: string) => console.log(`[${label}] ${line}`);
    const key = await issueKey(a.controlUrl, 'heavy');
    const auth = { authorization: `Bearer ${key}` };
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    await load(a.proxyUrl, auth, chat, { connections: 10, rate: 200, seconds: 4 });
    const rested = rssMb(pid);
    say(`at rest after a 4 s warm-up: RSS ${f(rested, 0)} MB (${smaps(pid)}), JS heap used ${await heapMb(a.controlUrl)}`);

    // Just under limits.max_body_bytes (10 MiB): prose the content scanners read whole.
    const sentence = 'The quarterly report lists revenue by region and the notes explain each change. ';
    const big = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: sentence.repeat(Math.floor(9.5e6 / sentence.length)) }] });
    const over = Buffer.alloc(11 * 2 ** 20, 'a');
    const deep = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x","extra":${'['.repeat(250)}${']'.repeat(250)}}]}`;
    const tooDeep = `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"x","extra":${'['.repeat(200_000)}${']'.repeat(200_000)}}]}`;
    const manyMessages = JSON.stringify({ model: 'gpt-4o-mini', messages: Array.from({ length: 100_000 }, (_, i) => ({ role: 'user', content: `message ${i}` })) });
    let peak = rested;
    for (let round = 1; round <= HEAVY_ROUNDS; round++) {
      const results = [
        `9.5 MB prose ${show(await burst(a.proxyUrl, auth, big, 8, 4))}`,
        `100k messages ${show(await burst(a.proxyUrl, auth, manyMessages, 4, 2))}`,
        // Status 0: the client was still sending when the agent answered 413 and closed.
        `11 MiB ${show(await burst(a.proxyUrl, auth, over, 8, 4))}`,
        `250 deep ${show(await burst(a.proxyUrl, auth, deep, 20, 4))}`,
        `200k deep ${show(await burst(a.proxyUrl, auth, tooDeep, 8, 4))}`,
      ];
      peak = Math.max(peak, rssMb(pid));
      say(`heavy round ${round}: RSS ${f(rssMb(pid), 0)} MB  (${results.join('; ')})`);
    }
    say(`right after the heavy phase: RSS ${f(rssMb(pid), 0)} MB (${smaps(pid)}), JS heap used ${await heapMb(a.controlUrl)}`);
    const idle: Array<[number, number]> = [];
    const detail: string[] = [];
    for (let s = 5; s <= IDLE_SECONDS; s += 5) {
      await new Promise((r) => setTimeout(r, 5000));
      idle.push([s, rssMb(pid)]);
      if (process.env.BENCH_MEMORY_DETAIL) detail.push(`${s} s: threads ${threads(pid)}, heap ${await heapMb(a.controlUrl)}`);
    }
    say(`idle, RSS by seconds since: ${idle.map(([s, mb]) => `${s} s ${f(mb, 0)}`).join(', ')} MB`);
    if (detail.length) say(detail.join('; '));
    const heapIdle = await heapMb(a.controlUrl);
    say(`after ${IDLE_SECONDS} s idle: RSS ${f(idle.at(-1)![1], 0)} MB (${smaps(pid)}), JS heap used ${heapIdle}`);
    return { rested, peak, idle, heapIdle };
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

async function main() {
  try {
    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const simUrl = sim.info.url as string;
    console.log(`# altrace bench — memory after heavy inputs (${HEAVY_ROUNDS} heavy rounds, then ${IDLE_SECONDS} s idle; two agents side by side)\n`);
    const [on, off] = await Promise.all([scenario('reclaim on', simUrl, {}), scenario('reclaim off', simUrl, { ALTRACE_HEAP_RECLAIM_MB: '0' })]);
    const at = (o: Outcome, s: number) => o.idle.find(([x]) => x >= s)?.[1] ?? NaN;
    const row = (name: string, o: Outcome) =>
      `  ${name.padEnd(28)} rest ${f(o.rested, 0)}, peak ${f(o.peak, 0)}, 10 s idle ${f(at(o, 10), 0)}, ${IDLE_SECONDS} s idle ${f(o.idle.at(-1)![1], 0)} MB (JS heap used ${o.heapIdle})`;
    console.log(`\nRSS of the agent, MB:`);
    console.log(row('default (heap_reclaim_mb 64)', on));
    console.log(row('heap_reclaim_mb 0', off));
    const over = on.idle.at(-1)![1] - on.rested;
    const met = over <= IDLE_BOUND_MB;
    console.log(`after idling, default: ${f(over, 0)} MB over its rest   [bound ≤ ${IDLE_BOUND_MB}] — ${met ? 'met' : 'MISSED'}   (reclaim off: ${f(off.idle.at(-1)![1] - off.rested, 0)} MB over)`);
    if (!met) process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

await main();
