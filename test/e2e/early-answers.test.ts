// Answers sent while the client is still sending (a body over the limit, a protocol error
// mid-request) reach it: the agent closes with a lingering close, not a reset.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { SimulatedProvider } from '../fixtures/simulator/index.js';
import { spawnAgent, type AgentProcess } from '../helpers/process.js';
import { raw } from '../helpers/raw-http.js';

// The agent in its own process, as in production: in the test's own process the event loop it
// shares with the clients paces them, and the race below does not show.
const ADMIN = 'altop-oversized-admin-token-000';
let sim: SimulatedProvider;
let agent: AgentProcess;
let stateDir: string;
let key: string;

test.before(async () => {
  sim = await new SimulatedProvider().start();
  stateDir = mkdtempSync(join(tmpdir(), 'altrace-oversized-'));
  agent = await spawnAgent({ ALTRACE_STATE_DIR: stateDir, ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_OPENAI_BASE_URL: `${sim.url}/v1`, OPENAI_API_KEY: 'sk-oversized-real' });
  const res = await fetch(`${agent.controlUrl}/api/v1/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ agent: 'uploader', team: 'qa' }) });
  key = ((await res.json()) as { key: string }).key;
});

test.after.always(async () => {
  await agent?.stop();
  await sim?.close();
  rmSync(stateDir, { recursive: true, force: true });
});

test('regression: the 413 reaches a client still sending its oversized body (a reset used to overtake it)', async (t) => {
  // Past the default limits.max_body_bytes (10 MiB), as a client would send it.
  const big = Buffer.alloc(11 << 20, 0x61);
  const outcomes: string[] = [];
  for (let i = 0; i < 10; i++) {
    const res = await fetch(`${agent.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: big }).catch((err: Error) => err);
    if (res instanceof Error) outcomes.push(`error: ${(res.cause as Error | undefined)?.message ?? res.message}`);
    else {
      await res.arrayBuffer();
      outcomes.push(`${res.status} ${res.headers.get('x-altrace-reason')}`);
    }
  }
  t.deepEqual(outcomes, Array(10).fill('413 ALT_BODY_TOO_LARGE'));
  t.is(sim.count(), 0, 'nothing reached the provider');
});

test('the OpenAI SDK gets a 413 APIError naming the limit, not a connection error', async (t) => {
  const client = new OpenAI({ apiKey: key, baseURL: `${agent.proxyUrl}/v1`, maxRetries: 0 });
  const err = await t.throwsAsync(client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(11 << 20) }] }));
  t.true(err instanceof OpenAI.APIError, `${err?.constructor.name}: ${err?.message}`);
  t.is((err as InstanceType<typeof OpenAI.APIError>).status, 413);
  t.regex(err!.message, /max_body_bytes|too large/i);
});

for (const listener of ['proxy', 'control'] as const) {
  test(`regression: ${listener} port: a protocol error's JSON answer reaches a client still sending 8 MB (a reset used to overtake it)`, async (t) => {
    const port = Number(new URL(listener === 'proxy' ? agent.proxyUrl : agent.controlUrl).port);
    const tail = 'x'.repeat(8 << 20);
    const statuses: Array<number | null> = [];
    for (let i = 0; i < 5; i++) statuses.push((await raw(port, `FOO / HTTP/1.1\r\nHost: x\r\n\r\n${tail}`)).status);
    t.deepEqual(statuses, [400, 400, 400, 400, 400]);
  });
}
