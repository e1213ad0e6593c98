// `npm run bench` (memory part): does the agent give memory back after heavy inputs? One agent,
// one simulator. RSS at rest, right after a burst of the largest bodies the agent accepts (and
// some it refuses), and after idling; the agent must come back within a stated bound.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { f, issueKey, load, rssMb, spawnJson, startAgent, stopAll } from './common.js';

/** Idle RSS may exceed the rested RSS by at most this much after the heavy phase. */
const IDLE_BOUND_MB = Number(process.env.BENCH_MEMORY_BOUND_MB ?? 60);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 20);
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

async function main() {
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-bench-memory-'));
  try {
    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const a = await startAgent(sim.info.url as string, stateDir);
    const pid = a.child.pid!;
    const key = await issueKey(a.controlUrl, 'heavy');
    const auth = { authorization: `Bearer ${key}` };
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    await load(a.proxyUrl, auth, chat, { connections: 10, rate: 200, seconds: 4 });
    const rested = rssMb(pid);
    console.log(`# altrace bench — memory after heavy inputs\n`);
    console.log(`at rest after a 4 s warm-up: RSS ${f(rested, 0)} MB (${smaps(pid)}), JS heap used ${await heapMb(a.controlUrl)}`);

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
        `11 MiB ${show(await burst(a.proxyUrl, auth, over, 8, 4))}`,
        `250 deep ${show(await burst(a.proxyUrl, auth, deep, 20, 4))}`,
        `200k deep ${show(await burst(a.proxyUrl, auth, tooDeep, 8, 4))}`,
      ];
      peak = Math.max(peak, rssMb(pid));
      console.log(`heavy round ${round}: RSS ${f(rssMb(pid), 0)} MB  (${results.join('; ')})`);
    }
    const afterHeavy = rssMb(pid);
    console.log(`right after the heavy phase: RSS ${f(afterHeavy, 0)} MB (${smaps(pid)}), JS heap used ${await heapMb(a.controlUrl)}`);
    const samples: string[] = [];
    for (let s = 5; s <= IDLE_SECONDS; s += 5) {
      await new Promise((r) => setTimeout(r, 5000));
      samples.push(`${s} s ${f(rssMb(pid), 0)}${process.env.BENCH_MEMORY_DETAIL ? ` (threads ${threads(pid)}, heap ${await heapMb(a.controlUrl)})` : ''}`);
    }
    const idle = rssMb(pid);
    console.log(`idle, RSS by seconds since: ${samples.join(', ')} MB`);
    console.log(`after ${IDLE_SECONDS} s idle: RSS ${f(idle, 0)} MB (${smaps(pid)}), JS heap used ${await heapMb(a.controlUrl)}`);
    await load(a.proxyUrl, auth, chat, { connections: 10, rate: 200, seconds: 4 });
    console.log(`after 4 s of ordinary traffic again: RSS ${f(rssMb(pid), 0)} MB`);
    if (process.env.BENCH_HOLD) {
      console.log(`holding the agent (pid ${pid}) for ${process.env.BENCH_HOLD} s`);
      await new Promise((r) => setTimeout(r, Number(process.env.BENCH_HOLD) * 1000));
    }
    const met = idle - rested <= IDLE_BOUND_MB;
    console.log(`\nRSS at rest ${f(rested, 0)} MB, peak ${f(peak, 0)} MB, after idling ${f(idle, 0)} MB: idle − rest = ${f(idle - rested, 0)} MB   [bound ≤ ${IDLE_BOUND_MB}] — ${met ? 'met' : 'MISSED'}`);
    if (!met) process.exitCode = 1;
  } finally {
    await stopAll();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

await main();
