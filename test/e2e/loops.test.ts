import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { shippedPolicy } from '../helpers/policy.js';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { patience } from '../helpers/patience.js';

// listen.loops: 2 — the main loop and one more on a worker thread share the proxy port; every
// decision is the decider's on the main thread. What must hold, from outside, whichever loop
// a connection lands on (docs/scaling.md): keys, kills, budgets and runs are exact.

let h: Harness;

test.before(async () => {
  h = await startHarness({ ALTRACE_LOOPS: '2' }, { clock: new TestClock(WEEKDAY_NOON).now });
});
test.after.always(async () => h?.close());

interface Answer {
  status: number;
  reason: string | null;
  warning: string | null;
  body: string;
}

/** One request on a connection of its own, so that the kernel spreads requests over the loops. */
function post(path: string, key: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const url = new URL(path, h.proxyUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers } }, (res: IncomingMessage) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, reason: (res.headers['x-altrace-reason'] as string) ?? null, warning: (res.headers['x-altrace-warning'] as string) ?? null, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

const chat = (content: string, extra: Record<string, unknown> = {}) => ({ model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user', content }], ...extra });

async function requestsTotal(text: string): Promise<number> {
  return [...text.matchAll(/^altrace_requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
}

test.serial('both loops serve: the main loop alone counts part of the requests, /metrics counts them all', async (t) => {
  const { key } = await h.createKey({ agent: 'spread', team: 'ops' });
  const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => post('/v1/chat/completions', key, chat(`hello ${i}`))));
  t.true(answers.every((a) => a.status === 200), answers.map((a) => a.status).join(' '));
  const mainOnly = await requestsTotal(await h.agent.metricsRegistry.metrics());
  const all = await requestsTotal(await (await fetch(`${h.controlUrl}/metrics`)).text());
  t.is(all, 60, 'the scrape sums every loop');
  t.true(mainOnly > 0 && mainOnly < 60, `the main loop served ${mainOnly} of 60: the other loop served the rest`);
});

test.serial('a revoked key is refused on every loop', async (t) => {
  const { key, id } = await h.createKey({ agent: 'revokee', team: 'ops' });
  t.is((await post('/v1/chat/completions', key, chat('hi'))).status, 200);
  t.is((await h.control('DELETE', `/keys/${id}`)).status, 200);
  const answers = await Promise.all(Array.from({ length: 30 }, () => post('/v1/chat/completions', key, chat('hi'))));
  t.deepEqual([...new Set(answers.map((a) => a.reason))], ['ALT_KEY_REVOKED']);
});

test.serial('a kill is acknowledged once the streams of the agent on every loop are cut; no loop serves it after', async (t) => {
  const { key } = await h.createKey({ agent: 'streamers', team: 'ops' });
  h.sim.defaultScript = { fragments: Array.from({ length: 400 }, (_, i) => `w${i} `), fragmentDelayMs: 20 };
  const streams = Array.from({ length: 8 }, () => {
    let text = '';
    let ended = false;
    const done = new Promise<void>((resolve, reject) => {
      const url = new URL('/v1/chat/completions', h.proxyUrl);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          ended = true;
          resolve();
        });
      });
      req.on('error', reject);
      req.end(JSON.stringify(chat('talk', { stream: true })));
    });
    return { done, text: () => text, ended: () => ended };
  });
  try {
    await eventually(() => streams.every((s) => s.text().includes('w3 ')), 5000, 'every stream under way');
    const res = await h.control('POST', '/kill', { scope: 'agent', target: 'streamers' });
    t.is(res.status, 201);
    const ackAt = performance.now();
    await Promise.all(streams.map((s) => s.done));
    const endedWithin = performance.now() - ackAt;
    for (const s of streams) t.regex(s.text(), /ALT_KILLED_AGENT/, 'each stream ends with the kill, in the provider format');
    const bound = patience(300);
    t.true(endedWithin < bound, `every stream ended ${endedWithin.toFixed(0)} ms after the ack (bound ${bound} ms: their cuts were written before it)`);
    const after = await Promise.all(Array.from({ length: 20 }, () => post('/v1/chat/completions', key, chat('hi'))));
    t.deepEqual([...new Set(after.map((a) => a.reason))], ['ALT_KILLED_AGENT']);
  } finally {
    h.sim.defaultScript = {};
    await h.control('DELETE', '/kill/agent/streamers');
  }
});

test.serial('concurrent requests on both loops never spend past a budget; every reservation is released', async (t) => {
  const { key } = await h.createKey({ agent: 'thrifty', team: 'ops' });
  const body = chat('hi', { max_tokens: 100 });
  const worst = ((Buffer.byteLength(JSON.stringify(body)) + 3) * 0.15 + 100 * 0.6) / 1e6;
  const limit = worst * 10.5;
  t.is((await h.control('PUT', '/budgets/agent/thrifty', { daily: limit })).status, 200);
  h.sim.defaultScript = { latencyMs: 1000 };
  const before = h.sim.count();
  try {
    const answers = await Promise.all(Array.from({ length: 60 }, () => post('/v1/chat/completions', key, body)));
    const admitted = answers.filter((a) => a.status === 200).length;
    // Ten worst cases fit at once; a request admitted later found what settlement freed.
    t.true(admitted >= 10 && admitted < 60, `${admitted} admitted`);
    t.true(answers.filter((a) => a.status !== 200).every((a) => a.reason === 'ALT_BUDGET_EXCEEDED'));
    t.is(h.sim.count() - before, admitted, 'refused requests never reached the provider');
    const rows = ((await (await h.control('GET', '/spend?by=agent')).json()) as { rows: { agent: string; usd: number }[] }).rows;
    const spent = rows.find((r) => r.agent === 'thrifty')!.usd;
    t.true(spent > 0 && spent <= limit, `settled ${spent} against a limit of ${limit}`);
    const budgets = (await (await h.control('GET', '/budgets')).json()) as { budgets: { target: string; windows: { daily: { reserved: number } } }[] };
    t.is(budgets.budgets.find((b) => b.target === 'thrifty')!.windows.daily.reserved, 0, 'every reservation was settled by the decider');
  } finally {
    h.sim.defaultScript = {};
  }
});

test.serial('one run on many connections is one run: repeats are warned, then refused, wherever they land', async (t) => {
  const { key } = await h.createKey({ agent: 'looper', team: 'ops' });
  const steps: (string | null)[] = [];
  for (let i = 0; i < 6; i++) {
    const a = await post('/v1/chat/completions', key, chat('the same thing'), { 'x-altrace-run': 'run-loops-1' });
    steps.push(a.reason ?? a.warning);
  }
  t.deepEqual(steps, [null, null, 'ALT_RUN_LOOP_WARNING', 'ALT_RUN_LOOP_WARNING', 'ALT_RUN_LOOP_BLOCKED', 'ALT_RUN_LOOP_BLOCKED']);
});

test.serial('content governance runs in the loop that holds the request: personal data masked, a secret refused, on either loop', async (t) => {
  const { key } = await h.createKey({ agent: 'scribe', team: 'ops' });
  const before = h.sim.count();
  const answers = await Promise.all(Array.from({ length: 20 }, () => post('/v1/chat/completions', key, chat('write to dana.whitfield@corp.example'))));
  t.true(answers.every((a) => a.status === 200 && /ALT_CONTENT_REDACTED/.test(a.warning ?? '')));
  t.false(h.sim.received.slice(before).some((r) => JSON.stringify(r.body).includes('dana.whitfield')), 'the provider never saw the address');
  const refused = await Promise.all(Array.from({ length: 20 }, () => post('/v1/chat/completions', key, chat('export TOKEN=ghp_R8c2LmQ9vX4kT7wZ1pN6sJ3hB5dF0gYaEu2i'))));
  t.deepEqual([...new Set(refused.map((a) => a.reason))], ['ALT_CONTENT_SECRET']);
});

test.serial('a loop that dies: requests in flight on it are lost, their reservations settled at what they reserved; it is started again and serves', async (t) => {
  const loops = h.agent.loops!;
  t.is(loops.listening, 1);
  const { key } = await h.createKey({ agent: 'survivor', team: 'ops' });
  t.is((await h.control('PUT', '/budgets/agent/survivor', { daily: 1 })).status, 200);
  h.sim.defaultScript = { latencyMs: 2000 };
  // Slow requests on both loops, holding reservations while the loop is stopped.
  const inFlight = Array.from({ length: 16 }, () => post('/v1/chat/completions', key, chat('hold on')).catch(() => 'lost' as const));
  await eventually(async () => {
    const budgets = (await (await h.control('GET', '/budgets')).json()) as { budgets: { target: string; windows: { daily: { reserved: number } } }[] };
    return (budgets.budgets.find((b) => b.target === 'survivor')?.windows.daily.reserved ?? 0) > 0;
  }, 5000, 'reservations in flight');
  await loops.thread(1)!.terminate();
  // A kill while the loop is down: nothing of it to wait for, the call is acknowledged at once.
  t.is(loops.listening, 0);
  t.is((await h.control('POST', '/kill', { scope: 'agent', target: 'bystander' })).status, 201);
  t.is((await h.control('DELETE', '/kill/agent/bystander')).status, 200);
  const outcomes = await Promise.all(inFlight);
  h.sim.defaultScript = {};
  const lost = outcomes.filter((o) => o === 'lost').length;
  t.true(lost > 0 && lost < 16, `${lost} of 16 lost with the loop (the others were on the main loop)`);
  const budgets = (await (await h.control('GET', '/budgets')).json()) as { budgets: { target: string; windows: { daily: { reserved: number; spent: number } } }[] };
  const daily = budgets.budgets.find((b) => b.target === 'survivor')!.windows.daily;
  t.is(daily.reserved, 0, 'nothing stays reserved');
  t.true(daily.spent > 0, 'the lost requests were charged what they reserved');
  // Meanwhile the main loop serves; then the loop is back and both serve again.
  t.is((await post('/v1/chat/completions', key, chat('still there?'))).status, 200);
  await eventually(() => loops.listening === 1, 5000, 'the loop started again');
  t.is(loops.restarts, 1);
  const metrics = await (await fetch(`${h.controlUrl}/metrics`)).text();
  t.regex(metrics, /^altrace_data_plane_loop_restarts_total 1$/m);
  t.regex(metrics, /^altrace_data_plane_loops 2$/m);
  const before = await requestsTotal(await h.agent.metricsRegistry.metrics());
  const answers = await Promise.all(Array.from({ length: 40 }, () => post('/v1/chat/completions', key, chat('again'))));
  t.true(answers.every((a) => a.status === 200));
  const mainServed = (await requestsTotal(await h.agent.metricsRegistry.metrics())) - before;
  t.true(mainServed < 40, `the main loop served ${mainServed} of 40: the restarted loop took the rest`);
});

test('a kill engaged while loops wait on approvals: approved afterwards, none of the requests reaches the provider', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-loops-approvals-'));
  mkdirSync(join(dir, 'contracts'));
  writeFileSync(join(dir, 'contracts', 'gate.yaml'), stringifyYaml({ contract: 'gate', version: 1, applies_to: { agents: ['payer'] }, approvals: [{ id: 'reasoning', model: 'o3*', timeout_s: 30 }] }));
  const policy = shippedPolicy();
  policy.contracts = { dir: 'contracts' };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  const g = await startHarness({ ALTRACE_LOOPS: '2', ALTRACE_POLICY: join(dir, 'policy.yaml') });
  t.teardown(async () => {
    await g.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const { key } = await g.createKey({ agent: 'payer', team: 'finance' });
  const url = new URL('/v1/chat/completions', g.proxyUrl);
  const waiting = Array.from({ length: 8 }, () =>
    new Promise<string | null>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve((res.headers['x-altrace-reason'] as string) ?? null));
      });
      req.on('error', reject);
      req.end(JSON.stringify(chat('think hard', { model: 'o3-mini' })));
    }),
  );
  let pending: { id: string }[] = [];
  await eventually(async () => (pending = ((await (await g.control('GET', '/approvals')).json()) as { approvals: { id: string }[] }).approvals).length === 8, 10_000, 'eight approvals pending');
  t.is((await g.control('POST', '/kill', { scope: 'agent', target: 'payer' })).status, 201);
  for (const p of pending) await g.control('POST', `/approvals/${p.id}/approve`, { reason: 'too late' });
  t.deepEqual([...new Set(await Promise.all(waiting))], ['ALT_KILLED_AGENT']);
  t.is(g.sim.count(), 0, 'none reached the provider');
});
