import Anthropic from '@anthropic-ai/sdk';
import test from 'ava';
import OpenAI from 'openai';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { patience } from '../helpers/patience.js';

let h: Harness;

test.before(async () => {
  h = await startHarness();
});
test.after.always(async () => h?.close());

const openai = (key: string) => new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
const chat = (key: string) => openai(key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });

async function outcome(p: Promise<unknown>): Promise<{ ok: boolean; status?: number; code?: string }> {
  try {
    await p;
    return { ok: true };
  } catch (err) {
    const e = err as { status?: number; code?: string };
    return { ok: false, status: e.status, code: e.code };
  }
}

async function release(path: string): Promise<void> {
  const res = await h.control('DELETE', path);
  if (res.status !== 200) throw new Error(`release ${path}: ${res.status} ${await res.text()}`);
}

test.serial('after the kill is acknowledged, no request of the agent gets through (racing loops)', async (t) => {
  const { key } = await h.createKey({ agent: 'racer', team: 'ops' });
  let ackAt = Infinity;
  const results: { start: number; ok: boolean; code?: string }[] = [];
  let stop = false;
  const loop = async () => {
    while (!stop) {
      const start = performance.now();
      const r = await outcome(chat(key));
      results.push({ start, ok: r.ok, ...(r.code ? { code: r.code } : {}) });
    }
  };
  const loops = [loop(), loop(), loop(), loop()];
  await eventually(() => results.length >= 20, 5000);
  const res = await h.control('POST', '/kill', { scope: 'agent', target: 'racer', reason: 'runaway' });
  ackAt = performance.now();
  t.is(res.status, 201);
  const receivedAtAck = h.sim.received.length;
  await eventually(() => results.filter((r) => r.start > ackAt).length >= 40, 5000);
  stop = true;
  await Promise.all(loops);

  const after = results.filter((r) => r.start > ackAt);
  t.true(after.length >= 40);
  t.true(after.every((r) => !r.ok && r.code === 'ALT_KILLED_AGENT'), 'every request started after the ack is refused');
  t.true(results.some((r) => r.start < ackAt && r.ok), 'requests before the kill went through');
  // At most the four requests already in flight at the ack may have reached the provider.
  t.true(h.sim.received.length - receivedAtAck <= 4);
  await release('/kill/agent/racer');
  t.true((await outcome(chat(key))).ok, 'released: the agent works again');
});

test.serial('a stream under way is ended within 100 ms of the acknowledgement, in the provider format, upstream aborted', async (t) => {
  const { key } = await h.createKey({ agent: 'streamer', team: 'ops' });
  h.sim.next({ fragments: Array.from({ length: 200 }, (_, i) => `w${i} `), fragmentDelayMs: 20 });
  const stream = await openai(key).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'talk' }] });
  const got: string[] = [];
  let ackAt = 0;
  let endedAt = 0;
  const error = await t.throwsAsync(async () => {
    try {
      for await (const chunk of stream) {
        got.push(chunk.choices[0]?.delta?.content ?? '');
        if (got.length === 3) {
          const res = await h.control('POST', '/kill', { scope: 'agent', target: 'streamer' });
          ackAt = performance.now();
          t.is(res.status, 201);
        }
      }
    } finally {
      endedAt = performance.now();
    }
  });
  t.is((error as InstanceType<typeof OpenAI.APIError>).code, 'ALT_KILLED_AGENT');
  t.true(ackAt > 0);
  // Fragments are 20 ms apart: a stream still running after the bound would show more of them.
  const bound = patience(100);
  t.true(endedAt - ackAt < bound, `stream ended ${(endedAt - ackAt).toFixed(1)} ms after the ack (bound ${bound} ms)`);
  t.true(got.length < 3 + bound / 20 + 2, `only ${got.length} fragments arrived`);
  t.true(await eventually(() => h.sim.last()!.closedEarly), 'the upstream request was aborted');
  await release('/kill/agent/streamer');
});

test.serial('an Anthropic stream is cut with an Anthropic error event', async (t) => {
  const { key } = await h.createKey({ agent: 'claude-user', team: 'ops' });
  h.sim.next({ fragments: Array.from({ length: 100 }, (_, i) => `t${i} `), fragmentDelayMs: 20 });
  const client = new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 });
  const stream = client.messages.stream({ model: 'claude-3-5-haiku-latest', max_tokens: 100, messages: [{ role: 'user', content: 'talk' }] });
  let n = 0;
  stream.on('text', () => {
    if (++n === 2) void h.control('POST', '/kill', { scope: 'team', target: 'ops' });
  });
  const error = await t.throwsAsync(stream.finalMessage());
  t.true(n < 20, `only ${n} text deltas arrived`);
  t.regex(String((error as Error).message), /ALT_KILLED_TEAM/);
  await release('/kill/team/ops');
});

test.serial('revoking a key fires its agent kill switch: the agent’s other keys stop too', async (t) => {
  const first = await h.createKey({ agent: 'twin', team: 'ops' });
  const second = await h.createKey({ agent: 'twin', team: 'ops' });
  t.true((await outcome(chat(second.key))).ok);
  const res = await h.control('DELETE', `/keys/${first.id}`);
  t.is(res.status, 200);
  const body = (await res.json()) as { revoked: string | null; kill: { scope: string; target: string; reason: string } | null };
  t.truthy(body.revoked);
  t.deepEqual([body.kill?.scope, body.kill?.target], ['agent', 'twin']);
  t.deepEqual(await outcome(chat(second.key)), { ok: false, status: 403, code: 'ALT_KILLED_AGENT' });
  t.is((await outcome(chat(first.key))).code, 'ALT_KEY_REVOKED', 'the revoked key itself is refused as revoked');
  await release('/kill/agent/twin');
  t.true((await outcome(chat(second.key))).ok, 'after the release the other key works');
  t.is((await outcome(chat(first.key))).code, 'ALT_KEY_REVOKED');
});

test.serial('team and global switches: each stops exactly its principals', async (t) => {
  const a = await h.createKey({ agent: 'alpha', team: 'red' });
  const b = await h.createKey({ agent: 'beta', team: 'blue' });
  t.is((await h.control('POST', '/kill', { scope: 'team', target: 'red' })).status, 201);
  t.is((await outcome(chat(a.key))).code, 'ALT_KILLED_TEAM');
  t.true((await outcome(chat(b.key))).ok);
  t.is((await h.control('POST', '/kill', { scope: 'global' })).status, 201);
  const blocked = await openai(b.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] }).withResponse().catch((e: unknown) => e);
  t.is((blocked as { code?: string }).code, 'ALT_KILLED_GLOBAL');
  t.is((blocked as { headers?: Headers }).headers?.get('x-altrace-stage'), 'kill-switch');
  const list = (await (await h.control('GET', '/kill')).json()) as { switches: { scope: string; target: string }[] };
  t.deepEqual(list.switches.map((s) => `${s.scope}:${s.target}`).sort(), ['global:*', 'team:red']);
  await release('/kill/global');
  await release('/kill/team/red');
  t.true((await outcome(chat(a.key))).ok);
});

test.serial('bad kill requests get a 4xx naming the field and change nothing', async (t) => {
  const before = await (await h.control('GET', '/kill')).json();
  const cases: [unknown, number, string][] = [
    [{ scope: 'planet', target: 'x' }, 400, 'scope'],
    [{ scope: 'team' }, 400, 'target'],
    [{ scope: 'agent', target: 42 }, 400, 'target'],
    [{ scope: 'agent', target: 'has space' }, 400, 'target'],
    [{ scope: 'agent', target: 'a', color: 'red' }, 400, 'color'],
    [{ scope: 'global', target: 'someone' }, 400, 'target'],
    [{ scope: 'team', target: 'red', reason: 7 }, 400, 'reason'],
    [[], 400, '(body)'],
  ];
  for (const [body, status, field] of cases) {
    const res = await h.control('POST', '/kill', body);
    t.is(res.status, status, JSON.stringify(body));
    t.is(((await res.json()) as { error: { field: string } }).error.field, field, JSON.stringify(body));
  }
  const malformed = await fetch(`${h.controlUrl}/api/v1/kill`, { method: 'POST', headers: { authorization: `Bearer ${(await import('../helpers/harness.js')).ADMIN_TOKEN}` }, body: '{"scope": "team",' });
  t.is(malformed.status, 400);
  t.is(((await malformed.json()) as { error: { code: string } }).error.code, 'ALT_MALFORMED_JSON');
  const huge = await h.control('POST', '/kill', { scope: 'team', target: 'red', reason: 'x'.repeat(100_000) });
  t.is(huge.status, 413);
  const unknown = await h.control('DELETE', '/kill/agent/nobody');
  t.is(unknown.status, 404);
  const badScope = await h.control('DELETE', '/kill/planet/x');
  t.is(badScope.status, 400);
  t.is((await h.control('PUT', '/kill')).status, 405);
  t.deepEqual(await (await h.control('GET', '/kill')).json(), before);
});
