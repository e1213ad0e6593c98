// `npm run bench`, third part: content governance. Scanning throughput per worker thread,
// request-side added latency by prompt size and per-fragment added latency with 1,000 streams
// open, each measured against the same agent build with content governance switched off.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { stringify as stringifyYaml } from 'yaml';
import { loadDefaultDetectors } from '../../proxy/src/scan/detectors/engine.js';
import type { Family } from '../../proxy/src/scan/detectors/types.js';
import { ROOT } from '../helpers/process.js';
import { f, histogram, issueKey, pct, quantileMs, spawnJson, startAgent, stopAll } from './common.js';
import { shippedPolicy } from '../helpers/policy.js';

const ALL = new Set<Family>(['secrets', 'pii', 'injection']);
const PROSE = 'The agent reviewed the quarterly report, compared it with last year and wrote a short summary for the team. ';
const CODE = 'const result = await client.query(sql, [userId, 42]); if (!result.rows.length) throw new NotFound(`user ${userId}`);\n';

function textOf(unit: string, bytes: number): string {
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

function throughput(): void {
  const { set } = loadDefaultDetectors(join(ROOT, 'policies/rules/gitleaks.toml'));
  console.log('scanning throughput, one thread (what each worker does), all detectors:');
  for (const [name, unit] of [['prose', PROSE], ['code', CODE]] as const) {
    const text = textOf(unit, 1 << 20);
    set.scan(text, ALL);
    const runs = 8;
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) set.scan(text, ALL);
    const seconds = (performance.now() - t0) / 1000;
    console.log(`  ${name.padEnd(6)} ${f(runs / seconds, 1)} MB/s`);
  }
}

async function overheads(url: string, key: string, prompt: string, n: number): Promise<number[]> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
    await res.body.dump();
    out.push(Number(res.headers['x-altrace-overhead-ms']));
  }
  return out;
}

/** n streams at once, each of `fragments` fragments paced `paceMs` apart; resolves when all ended. */
async function streams(url: string, key: string, n: number): Promise<void> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'tell me' }] });
  await Promise.all(
    Array.from({ length: n }, async () => {
      const res = await request(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` }, body });
      await res.body.dump();
    }),
  );
}

async function main() {
  throughput();
  const dir = mkdtempSync(join(tmpdir(), 'altrace-bench-content-'));
  try {
    const policy = shippedPolicy();
    policy.content = { ...policy.content, enabled: false };
    writeFileSync(join(dir, 'off.yaml'), stringifyYaml(policy));
    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const simUrl = sim.info.url as string;
    const on = await startAgent(simUrl, join(dir, 'state-on'), { ALTRACE_LOG_LEVEL: 'warn', ALTRACE_MAX_BODY_BYTES: String(4 << 20) });
    const off = await startAgent(simUrl, join(dir, 'state-off'), { ALTRACE_LOG_LEVEL: 'warn', ALTRACE_POLICY: join(dir, 'off.yaml'), ALTRACE_MAX_BODY_BYTES: String(4 << 20) });
    const keyOn = await issueKey(on.controlUrl, 'bench');
    const keyOff = await issueKey(off.controlUrl, 'bench');

    console.log('\nrequest side (x-altrace-overhead-ms; content on vs off, same run). Clean prompts clear the keyword');
    console.log('prefilter on the event loop; the redacted one goes to a worker and is rewritten:');
    // On and off alternate request by request, so a burst of noise on the shared cores lands on both.
    const rows = [['1 KB', 1 << 10, 600, ''], ['100 KB', 100 << 10, 400, ''], ['1 MB', 1 << 20, 20, ''], ['100 KB, redacted', 100 << 10, 200, ' Reply to ops.lead@corp.example.']] as const;
    for (const [label, bytes, n, tail] of rows) {
      const prompt = textOf(PROSE, bytes) + tail;
      await overheads(on.proxyUrl, keyOn, prompt, 5);
      await overheads(off.proxyUrl, keyOff, prompt, 5);
      const a: number[] = [];
      const b: number[] = [];
      for (let i = 0; i < n; i++) {
        a.push(...(await overheads(on.proxyUrl, keyOn, prompt, 1)));
        b.push(...(await overheads(off.proxyUrl, keyOff, prompt, 1)));
      }
      console.log(
        `  ${label.padEnd(16)} on p50 ${f(pct(a, 0.5), 3)} p99 ${f(pct(a, 0.99), 3)} ms | off p50 ${f(pct(b, 0.5), 3)} p99 ${f(pct(b, 0.99), 3)} ms | added p50 ${f(pct(a, 0.5) - pct(b, 0.5), 3)} p99 ${f(pct(a, 0.99) - pct(b, 0.99), 3)} ms${label === '100 KB' ? '   [target added p99 ≤ 2]' : ''}`,
      );
    }

    console.log('\nper-fragment added latency, 1,000 concurrent streams (10 fragments each, paced 100 ms; 3 alternating rounds), self-timed:');
    await fetch(`${simUrl}/__sim/script`, { method: 'POST', body: JSON.stringify({ default: { fragmentDelayMs: 100, fragments: PROSE.split(' ').slice(0, 10).map((w) => `${w} `) } }) });
    // Three rounds, on and off alternating, pooled per agent: a burst of noise lands on both.
    const sides = [['on', on, keyOn], ['off', off, keyOff]] as const;
    const before = await Promise.all(sides.map(([, agent]) => histogram(agent.controlUrl, 'altrace_fragment_overhead_seconds')));
    for (let round = 0; round < 3; round++) for (const [, agent, key] of sides) await streams(agent.proxyUrl, key, 1000);
    for (const [i, [name, agent]] of sides.entries()) {
      const after = await histogram(agent.controlUrl, 'altrace_fragment_overhead_seconds');
      console.log(`  content ${name.padEnd(3)} p50 ${f(quantileMs(after, before[i]!, 0.5), 3)} ms  p99 ${f(quantileMs(after, before[i]!, 0.99), 3)} ms${name === 'on' ? '   [target p99 ≤ 0.2]' : ''}`);
    }
  } finally {
    await stopAll();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
