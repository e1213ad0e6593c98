import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { ROOT } from '../helpers/process.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'altrace-enforcement-'));

test.before(async () => {
  const policy = shippedPolicy();
  policy.run_loops = { warn_after: 2, block_after: 3, terminate_after: 4, window_s: 60 };
  policy.enforcement = {
    throttle_rps: 1,
    deescalate_after_s: 1,
    rules: [{ id: 'scope-abuse', when: { reason: 'ALT_MODEL_NOT_ALLOWED', count: 3, within_s: 60 }, level: 'quarantine' }],
  };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TOOLS = [{ type: 'function' as const, function: { name: 'delete_repo', parameters: { type: 'object', properties: {} } } }];

async function ask(key: string, opts: { tools?: boolean; model?: string; run?: string; content?: string } = {}) {
  const client = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: opts.run ? { 'x-altrace-run': opts.run } : {} });
  try {
    const { response } = await client.chat.completions
      .create({ model: opts.model ?? 'gpt-4o-mini', messages: [{ role: 'user', content: opts.content ?? 'hello' }], ...(opts.tools ? { tools: TOOLS } : {}) })
      .withResponse();
    return { code: 'ok', warning: response.headers.get('x-altrace-warning') };
  } catch (e) {
    const err = e as { code?: string; status?: number };
    return { code: err.code ?? 'error', status: err.status, warning: null };
  }
}

const setLevel = (agent: string, level: string, reason?: string) => h.control('PUT', `/agents/${agent}/level`, { level, ...(reason ? { reason } : {}) });

async function agentView(agent: string): Promise<any> {
  return (await h.control('GET', `/agents/${agent}`)).json();
}

test.serial('each level has its effect: warning, throttle, quarantine, block, kill, and back to normal', async (t) => {
  const { key } = await h.createKey({ agent: 'graded', team: 'ops' });
  t.is((await setLevel('graded', 'warning', 'first offence')).status, 200);
  t.like(await ask(key), { code: 'ok', warning: 'ALT_AGENT_WARNING' });

  t.is((await setLevel('graded', 'throttle')).status, 200);
  const burst = [await ask(key), await ask(key), await ask(key)].map((r) => r.code);
  t.is(burst[0], 'ok');
  t.true(burst.slice(1).includes('ALT_AGENT_THROTTLED'), `burst: ${burst}`);

  t.is((await setLevel('graded', 'quarantine')).status, 200);
  t.is((await ask(key, { tools: true })).code, 'ALT_AGENT_QUARANTINED');
  t.is((await ask(key)).code, 'ok', 'a plain request is still served');

  t.is((await setLevel('graded', 'block')).status, 200);
  t.like(await ask(key), { code: 'ALT_AGENT_BLOCKED', status: 403 });

  t.is((await setLevel('graded', 'kill', 'incident 42')).status, 200);
  t.is((await ask(key)).code, 'ALT_KILLED_AGENT');
  const killed = await agentView('graded');
  t.like(killed, { level: 'kill', killed: true, level_set_by: 'operator:admin', level_reason: 'incident 42' });

  t.is((await setLevel('graded', 'normal')).status, 200);
  t.is((await ask(key)).code, 'ok');
  t.like(await agentView('graded'), { level: 'normal', killed: false });
  const view = await agentView('graded');
  t.true(view.recent.enforcement_reasons.ALT_AGENT_BLOCKED >= 1 && view.recent.decisions.allow >= 3);
});

test.serial('a declared rule escalates at once; the level steps down one level at a time after a quiet period', async (t) => {
  const { key } = await h.createKey({ agent: 'prober', team: 'ops', models: ['gpt-4o-mini'] });
  for (let i = 0; i < 3; i++) t.is((await ask(key, { model: 'gpt-4.1' })).code, 'ALT_MODEL_NOT_ALLOWED');
  t.like(await agentView('prober'), { level: 'quarantine', level_set_by: 'rule:scope-abuse' });
  t.is((await ask(key, { tools: true })).code, 'ALT_AGENT_QUARANTINED', 'escalated before the next request');
  const seen: string[] = [];
  t.true(
    await eventually(() => {
      void agentView('prober').then((v) => seen.push(v.level));
      return seen.includes('normal');
    }, 10_000),
    `levels seen: ${[...new Set(seen)].join(' → ')}`,
  );
  const order = [...new Set(seen)];
  t.deepEqual(order.slice(order.indexOf('throttle')), ['throttle', 'warning', 'normal'], 'one level per quiet period');
  const audit = (await (await h.control('GET', '/audit?kind=control&limit=1000')).json()) as { records: { control: { operator: string; action: string; target: string } }[] };
  t.true(audit.records.some((r) => r.control.operator === 'rule:scope-abuse' && r.control.action === 'LEVEL normal->quarantine' && r.control.target === 'prober'));
});

test.serial('run loops: repeats in one run are warned, then blocked, then the run is terminated', async (t) => {
  const { key } = await h.createKey({ agent: 'looper', team: 'ops' });
  const before = h.sim.received.length;
  const steps = [];
  for (let i = 0; i < 4; i++) steps.push(await ask(key, { run: 'run-1', content: 'try the same thing again' }));
  t.deepEqual(
    steps.map((s) => s.code),
    ['ok', 'ok', 'ALT_RUN_LOOP_BLOCKED', 'ALT_RUN_TERMINATED'],
  );
  t.is(steps[1]!.warning, 'ALT_RUN_LOOP_WARNING');
  t.is((await ask(key, { run: 'run-1', content: 'something new' })).code, 'ALT_RUN_TERMINATED', 'a terminated run stays terminated');
  t.is((await ask(key, { run: 'run-2', content: 'try the same thing again' })).code, 'ok', 'another run is not affected');
  t.is((await ask(key, { content: 'try the same thing again' })).code, 'ok', 'requests without a run id are not tracked');
  t.is(h.sim.received.length - before, 4, 'blocked and terminated requests never reached the provider');
});

test.serial('bad level requests get a 4xx naming the field and change nothing', async (t) => {
  await h.createKey({ agent: 'steady', team: 'ops' });
  const cases: [string, unknown, number, string][] = [
    ['/agents/steady/level', { level: 'panic' }, 400, 'level'],
    ['/agents/steady/level', { level: 'block', extra: 1 }, 400, 'extra'],
    ['/agents/steady/level', { level: 'block', reason: 5 }, 400, 'reason'],
    ['/agents/nobody/level', { level: 'block' }, 404, 'agent'],
  ];
  for (const [path, body, status, field] of cases) {
    const res = await h.control('PUT', path, body);
    t.is(res.status, status);
    t.is(((await res.json()) as { error: { field: string } }).error.field, field);
  }
  t.like(await agentView('steady'), { level: 'normal' });
  const token = ((await (await h.control('POST', '/tokens', { name: 'other', team: 'other' })).json()) as { token: string }).token;
  t.is((await h.controlAs(token, 'PUT', '/agents/steady/level', { level: 'block' })).status, 404);
  t.is((await h.controlAs(token, 'GET', '/agents/steady')).status, 404);
  t.like(await agentView('steady'), { level: 'normal' });
});
