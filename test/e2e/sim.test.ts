// `altrace sim`: the simulated provider as a product command (the newcomer's tour, the benches).
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, runCli } from '../helpers/process.js';
import { SimulatedProvider } from '../fixtures/simulator/index.js';

async function startSim(args: string[] = []) {
  const child = spawn(process.execPath, [join(ROOT, 'bin/altrace.js'), 'sim', '--json', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, ...(JSON.parse(line) as { url: string; port: number }) };
}

test('altrace sim serves each provider format and says where; SIGTERM stops it cleanly', async (t) => {
  const sim = await startSim();
  try {
    t.regex(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const chat = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
    t.is(chat.status, 200);
    t.truthy(((await chat.json()) as { choices: unknown[] }).choices.length);
    const anthropic = await fetch(`${sim.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }) });
    t.is(((await anthropic.json()) as { type: string }).type, 'message');
    // A broken script is refused with a reason, and the simulator keeps serving.
    const bad = await fetch(`${sim.url}/__sim/script`, { method: 'POST', body: '{"next": ' });
    t.is(bad.status, 400);
    t.regex(((await bad.json()) as { error: string }).error, /not JSON/);
    await fetch(`${sim.url}/__sim/script`, { method: 'POST', body: JSON.stringify({ next: { error: { status: 429 } } }) });
    const scripted = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }) });
    t.is(scripted.status, 429);
    const seen = (await (await fetch(`${sim.url}/__sim/requests`)).json()) as { count: number };
    t.is(seen.count, 3);
  } finally {
    sim.child.kill('SIGTERM');
  }
  const [code] = (await once(sim.child, 'exit')) as [number | null];
  t.is(code, 0);
});

test('the simulator records a body that is not JSON before refusing it: a test can tell its refusal from the proxy\'s', async (t) => {
  const sim = await new SimulatedProvider().start();
  try {
    const bad = await fetch(`${sim.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
    t.is(bad.status, 400);
    t.regex(((await bad.json()) as { error: { message: string } }).error.message, /simulator: body is not JSON/);
    t.is(sim.count('openai'), 1);
    t.is(sim.last()!.body, '{"model":');
  } finally {
    await sim.close();
  }
});

test('the simulator answers GET /v1/models/{id} with a colon in the id as OpenAI, not as a Gemini call', async (t) => {
  const sim = await new SimulatedProvider().start();
  try {
    const res = await fetch(`${sim.url}/v1/models/ft:gpt-4o-mini:org:x`);
    t.is(res.status, 200);
    t.is(((await res.json()) as { id: string }).id, 'ft:gpt-4o-mini:org:x');
    t.is(sim.last()!.provider, 'openai');
  } finally {
    await sim.close();
  }
});

test('altrace sim: a bad port is a usage error naming it; the text mode tells how to point the agent at it', async (t) => {
  const bad = await runCli(['sim', '--port', 'ninety']);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /--port must be a port number 0-65535, got "ninety"/);
  const help = await runCli(['help', 'sim']);
  t.is(help.code, 0);
  t.regex(help.stdout, /ALTRACE_OPENAI_BASE_URL=http:\/\/HOST:PORT\/v1/);
});

test('shipped code never imports the tests: agent/ and proxy/ stand on their own', (t) => {
  const offenders: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (path.endsWith('.ts') && /from '(\.\.\/)+test\//.test(readFileSync(path, 'utf8'))) offenders.push(path.slice(ROOT.length));
    }
  };
  walk(join(ROOT, 'agent/src'));
  walk(join(ROOT, 'proxy/src'));
  t.deepEqual(offenders, []);
});
