// Per-fragment latency as the client sees it (issue 25, item 1): the upstream stamps each SSE
// fragment with the moment it wrote it, the client subtracts on arrival. Direct to the upstream,
// through a bare Node pass-through (http.request + pipe, keep-alive) and through Altrace (default
// chain, fragments scanned), in one run, at 20, 200 and 1,000 concurrent streams (fragments 20 ms
// apart). Printed: what each proxy adds over direct, p50 and p99, and Altrace's own fragment
// histogram over the same window, to set against what the client saw.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import { f, histogram, issueKey, quantileMs, spawnJson, startAgent, stopAll } from './common.js';

const SECONDS = Number(process.env.BENCH_STREAM_SECONDS ?? 6);
const LEVELS = (process.env.BENCH_STREAM_LEVELS ?? '20,200,1000').split(',').map(Number);
const FRAGMENT_MS = 20;
/** Which targets to run (`direct,bare,altrace`); direct is always measured, as the others' baseline. */
const TARGETS = new Set(['direct', ...(process.env.BENCH_STREAM_TARGETS ?? 'bare,altrace').split(',')]);
const nowUs = () => (performance.timeOrigin + performance.now()) * 1000;
const BODY = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count to fifty, slowly' }] });

/** Latencies (µs) of every fragment of `streams` concurrent streams for SECONDS, the first second of each left out (connections warming). */
async function measure(base: string, headers: Record<string, string>, streams: number): Promise<{ lat: Float64Array; n: number; errors: number }> {
  const dispatcher = new Agent({ connections: streams + 10, keepAliveTimeout: 60_000, pipelining: 1 });
  const lat = new Float64Array(streams * ((SECONDS * 1000) / FRAGMENT_MS + 100));
  let n = 0;
  let errors = 0;
  const start = Date.now();
  const until = start + SECONDS * 1000;
  const countFrom = start + 1000;
  const one = async () => {
    while (Date.now() < until) {
      try {
        const res = await request(`${base}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: BODY, dispatcher });
        if (res.statusCode !== 200) {
          errors++;
          await res.body.text();
          continue;
        }
        let carry = '';
        for await (const chunk of res.body) {
          const at = nowUs();
          const text = carry + (chunk as Buffer).toString('latin1');
          const cut = text.lastIndexOf('\n\n');
          carry = cut < 0 ? text : text.slice(cut + 2);
          if (Date.now() < countFrom) continue;
          const done = cut < 0 ? '' : text.slice(0, cut);
          for (const m of done.matchAll(/"fp_t(\d+)"/g)) if (n < lat.length) lat[n++] = at - Number(m[1]);
        }
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: streams }, one));
  await dispatcher.close();
  return { lat, n, errors };
}

function quantiles(r: { lat: Float64Array; n: number }): { p50: number; p99: number } {
  const xs = r.lat.slice(0, r.n).sort();
  return { p50: xs[Math.floor(0.5 * (xs.length - 1))]! / 1000, p99: xs[Math.floor(0.99 * (xs.length - 1))]! / 1000 };
}

async function main(): Promise<void> {
  const state = mkdtempSync(join(tmpdir(), 'altrace-bench-stream-'));
  try {
    const upstream = (await spawnJson('dist/test/bench/stamping-upstream.js')).info.port as number;
    const upstreamUrl = `http://127.0.0.1:${upstream}`;
    const bare = (await spawnJson('dist/test/bench/bare-pipe-proxy.js', [upstreamUrl])).info.port as number;
    const agent = await startAgent(upstreamUrl, state, { ALTRACE_LOG_LEVEL: 'warn' });
    const key = await issueKey(agent.controlUrl, 'stream-bench');
    const targets = ([
      ['direct', upstreamUrl, {}],
      ['bare', `http://127.0.0.1:${bare}`, {}],
      ['altrace', agent.proxyUrl, { authorization: `Bearer ${key}` }],
    ] as [string, string, Record<string, string>][]).filter(([name]) => TARGETS.has(name));
    console.log(`outside per-fragment latency, ${SECONDS} s per target and level, fragments ${FRAGMENT_MS} ms apart (first second of each run left out)`);
    console.log('| streams (fragments/s) | direct p50 / p99 | bare adds p50 / p99 | altrace adds p50 / p99 | altrace/bare added p99 | altrace self-timed p50 / p99 | fragments counted (direct/bare/altrace) | errors |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const streams of LEVELS) {
      const seen: Record<string, { p50: number; p99: number; n: number; errors: number }> = {};
      let selfTimed = { p50: NaN, p99: NaN };
      for (const [name, base, headers] of targets) {
        const before = name === 'altrace' ? await histogram(agent.controlUrl, 'altrace_fragment_overhead_seconds') : null;
        const r = await measure(base, headers, streams);
        if (before) {
          const after = await histogram(agent.controlUrl, 'altrace_fragment_overhead_seconds');
          selfTimed = { p50: quantileMs(after, before, 0.5), p99: quantileMs(after, before, 0.99) };
        }
        seen[name] = { ...quantiles(r), n: r.n, errors: r.errors };
      }
      const none = { p50: NaN, p99: NaN, n: 0, errors: 0 };
      for (const name of ['bare', 'altrace']) seen[name] ??= none;
      const d = seen.direct!;
      const add = (x: { p50: number; p99: number }) => ({ p50: x.p50 - d.p50, p99: x.p99 - d.p99 });
      const bareAdds = add(seen.bare!);
      const altAdds = add(seen.altrace!);
      console.log(
        `| ${streams} (${Math.round((streams * 1000) / FRAGMENT_MS)}/s) | ${f(d.p50)} / ${f(d.p99)} ms | ${f(bareAdds.p50)} / ${f(bareAdds.p99)} ms | ${f(altAdds.p50)} / ${f(altAdds.p99)} ms | ${bareAdds.p99 > 0 ? f(altAdds.p99 / bareAdds.p99) : 'n/a'} | ${f(selfTimed.p50, 3)} / ${f(selfTimed.p99, 3)} ms | ${d.n}/${seen.bare!.n}/${seen.altrace!.n} | ${d.errors}/${seen.bare!.errors}/${seen.altrace!.errors} |`,
      );
    }
  } finally {
    await stopAll();
    rmSync(state, { recursive: true, force: true });
  }
}

await main();
