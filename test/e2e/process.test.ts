// The agent as operators run it: `altrace start` in its own process, driven by the CLI.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { SimulatedProvider } from '../fixtures/simulator/index.js';
import { runCli, spawnAgent, type AgentProcess } from '../helpers/process.js';

const ADMIN = 'altop-process-test-admin-000000001';
let sim: SimulatedProvider;
let stateDir: string;
const running: AgentProcess[] = [];

test.before(async () => {
  sim = await new SimulatedProvider().start();
  stateDir = mkdtempSync(join(tmpdir(), 'altrace-process-'));
});
test.after.always(async () => {
  for (const a of running) await a.stop();
  await sim?.close();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

async function start(): Promise<AgentProcess> {
  const a = await spawnAgent({ ALTRACE_STATE_DIR: stateDir, ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_OPENAI_BASE_URL: `${sim.url}/v1`, OPENAI_API_KEY: 'sk-process-real' });
  running.push(a);
  return a;
}

const cli = (a: AgentProcess, args: string[]) => runCli(args, { ALTRACE_URL: a.controlUrl, ALTRACE_TOKEN: ADMIN });

async function chatCode(a: AgentProcess, key: string): Promise<string> {
  return new OpenAI({ apiKey: key, baseURL: `${a.proxyUrl}/v1`, maxRetries: 0 }).chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    .then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? 'error',
    );
}

test.serial('a kill survives SIGKILL right after the acknowledgement, and a restart', async (t) => {
  const first = await start();
  const created = await cli(first, ['keys', 'create', '--agent', 'durable', '--team', 'ops', '--json']);
  t.is(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout).key as string;
  t.is(await chatCode(first, key), 'ok');

  const res = await fetch(`${first.controlUrl}/api/v1/kill`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ scope: 'agent', target: 'durable', reason: 'power-loss drill' }),
  });
  t.is(res.status, 201);
  first.child.kill('SIGKILL'); // no shutdown path runs: only what was committed before the ack survives
  await new Promise((r) => first.child.once('exit', r));

  const second = await start();
  t.is(await chatCode(second, key), 'ALT_KILLED_AGENT');
  const list = await cli(second, ['kill', 'list', '--json']);
  t.is(list.code, 0);
  t.like(JSON.parse(list.stdout).switches[0], { scope: 'agent', target: 'durable', reason: 'power-loss drill' });

  const released = await cli(second, ['unkill', 'agent', 'durable']);
  t.is(released.code, 0, released.stderr);
  t.regex(released.stdout, /released agent durable/);
  t.is(await chatCode(second, key), 'ok');
  await second.stop();
});

test.serial('CLI: --help, usage errors exit 2, refused calls exit 1 with the code', async (t) => {
  const a = await start();
  for (const command of ['kill', 'unkill', 'tokens', 'keys', 'budgets', 'audit', 'agents', 'start']) {
    const help = await runCli([command, '--help']);
    t.is(help.code, 0, command);
    t.regex(help.stdout, new RegExp(`altrace ${command}`));
  }
  const top = await runCli(['--help']);
  t.is(top.code, 0);
  t.regex(top.stdout, /kill SCOPE/);
  t.is((await runCli([])).code, 2);
  t.is((await runCli(['frobnicate'])).code, 2);
  const badScope = await cli(a, ['kill', 'planet']);
  t.is(badScope.code, 2);
  t.regex(badScope.stderr, /unknown scope "planet"/);
  t.is((await cli(a, ['kill', 'team'])).code, 2, 'team needs a name');
  t.is((await cli(a, ['kill', 'agent', 'x', '--bogus'])).code, 2);
  const notEngaged = await cli(a, ['unkill', 'agent', 'nobody']);
  t.is(notEngaged.code, 1);
  t.regex(notEngaged.stderr, /ALT_NOT_FOUND/);
  const unreachable = await runCli(['kill', 'list'], { ALTRACE_URL: 'http://127.0.0.1:9', ALTRACE_TOKEN: ADMIN });
  t.is(unreachable.code, 1);
  t.regex(unreachable.stderr, /ALT_CONTROL_UNREACHABLE/);
  const engaged = await cli(a, ['kill', 'team', 'ops', '--reason', 'drill']);
  t.is(engaged.code, 0);
  t.regex(engaged.stdout, /killed team ops/);
  t.is((await cli(a, ['unkill', 'team', 'ops'])).code, 0);

  t.is((await cli(a, ['budgets', 'set', 'team', 'ops'])).code, 2, 'a budget needs a limit');
  t.is((await cli(a, ['budgets', 'set', 'team', 'ops', '--daily', '-1'])).code, 2);
  const set = await cli(a, ['budgets', 'set', 'team', 'ops', '--daily', '5', '--monthly', '100']);
  t.is(set.code, 0, set.stderr);
  const budgets = JSON.parse((await cli(a, ['budgets', 'list', '--json'])).stdout);
  t.like(budgets.budgets[0], { scope: 'team', target: 'ops', windows: { daily: { limit: 5 }, weekly: { limit: null }, monthly: { limit: 100 } } });
  const refused = await cli(a, ['budgets', 'set', 'planet', 'x', '--daily', '1']);
  t.is(refused.code, 2, 'an unknown scope is a usage error');
  t.regex(refused.stderr, /SCOPE "planet" is not one of/);
  const spent = await cli(a, ['budgets', 'spend', '--by', 'agent', '--window', 'daily']);
  t.is(spent.code, 0, spent.stderr);
  t.regex(spent.stdout, /^daily \d{4}-\d{2}-\d{2}\.\.\d{4}-\d{2}-\d{2} by agent/);
  t.is((await cli(a, ['budgets', 'remove', 'team', 'ops'])).code, 0);
  await a.stop();
});

// In a cluster the proxy listens on the node's address (pods in explicit base-URL mode reach it)
// while the control API stays on loopback, and probes and Prometheus read a port of their own.
test.serial('listen.proxy_host puts the proxy alone on another address; listen.ops_port serves health and metrics, nothing else', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-ops-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const a = await spawnAgent({ ALTRACE_STATE_DIR: dir, ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_OPENAI_BASE_URL: `${sim.url}/v1`, OPENAI_API_KEY: 'sk-process-real', ALTRACE_PROXY_HOST: '127.0.0.2', ALTRACE_OPS_PORT: '0' });
  running.push(a);
  t.regex(a.proxyUrl, /^http:\/\/127\.0\.0\.2:\d+$/);
  t.regex(a.controlUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  const port = Number(new URL(a.proxyUrl).port);
  const refused = await fetch(`http://127.0.0.1:${port}/v1/models`).then(() => 'answered', (e: Error) => String((e.cause as { code?: string })?.code));
  t.is(refused, 'ECONNREFUSED', 'nothing of the proxy on the control API’s address');
  const created = await cli(a, ['keys', 'create', '--agent', 'ops-bot', '--team', 'ops', '--json']);
  t.is(created.code, 0, created.stderr);
  t.is(await chatCode(a, (JSON.parse(created.stdout) as { key: string }).key), 'ok', 'the proxy governs on its own address');
  const ops = /^\s+ops\s+(http:\/\/\S+)\/metrics/m.exec(a.stderr.join('\n'))?.[1];
  t.truthy(ops, 'the banner says where the ops port is');
  t.is((await fetch(`${ops}/healthz`)).status, 200);
  t.is((await fetch(`${ops}/readyz`)).status, 200);
  const metrics = await (await fetch(`${ops}/metrics`)).text();
  t.regex(metrics, /altrace_overhead_ms_bucket|altrace_requests_total/);
  const api = await fetch(`${ops}/api/v1/keys`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.is(api.status, 404, 'the control API is not on the ops port, even with a valid token');
  t.regex(await api.text(), /serves \/healthz, \/readyz and \/metrics only/);
});
