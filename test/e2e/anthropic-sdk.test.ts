import test from 'ava';
import Anthropic from '@anthropic-ai/sdk';
import { CUT_TAIL as TAIL, eventually, REAL_KEYS, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness();
  key = (await h.createKey({ agent: 'writer', team: 'content', models: ['claude-sonnet-*'] })).key;
});
test.after.always(async () => h?.close());

const client = (apiKey = key) => new Anthropic({ apiKey, baseURL: h.proxyUrl, maxRetries: 0 });

test.serial('messages: x-api-key is swapped for the real key', async (t) => {
  const msg = await client().messages.create({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  t.is(msg.content[0]!.type, 'text');
  t.is((msg.content[0] as { text: string }).text, 'Hello from the simulated provider. All systems nominal.');
  const seen = h.sim.last()!;
  t.is(seen.headers['x-api-key'], REAL_KEYS.anthropic);
  t.truthy(seen.headers['anthropic-version']);
});

test.serial('streaming messages, and count_tokens', async (t) => {
  h.sim.next({ fragments: ['Hel', 'lo'] });
  const stream = client().messages.stream({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  const final = await stream.finalMessage();
  t.is((final.content[0] as { text: string }).text, 'Hello');
  const count = await client().messages.countTokens({ model: 'claude-sonnet-7-0', messages: [{ role: 'user', content: 'hi' }] });
  t.is(count.input_tokens, 12);
  // Regression: a stray "stream": true made count_tokens' JSON answer a 502 ALT_UPSTREAM_BAD_RESPONSE.
  const streamFlagged = await client().messages.countTokens({ model: 'claude-sonnet-7-0', messages: [{ role: 'user', content: 'hi' }], stream: true } as never);
  t.is(streamFlagged.input_tokens, 12);
});

test.serial('blocks are the SDK errors of their status, with the altrace object', async (t) => {
  const before = h.sim.count();
  const err = await t.throwsAsync(client().messages.create({ model: 'claude-opus-4-1', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }));
  t.true(err instanceof Anthropic.PermissionDeniedError);
  const body = (err as InstanceType<typeof Anthropic.APIError>).error as { type: string; error: { type: string }; altrace: { reason: string } };
  t.is(body.type, 'error');
  t.is(body.error.type, 'permission_error');
  t.is(body.altrace.reason, 'ALT_MODEL_NOT_ALLOWED');
  const auth = await t.throwsAsync(client('sk-ant-api03-real').messages.create({ model: 'claude-sonnet-7-0', max_tokens: 8, messages: [] }));
  t.true(auth instanceof Anthropic.AuthenticationError);
  t.is(h.sim.count(), before);
});

test.serial('a denied fragment ends the stream with an Anthropic error event', async (t) => {
  h.sim.next({ fragments: ['ok ', '-----BEGIN PRIVATE KEY-----', ...TAIL], fragmentDelayMs: 30 });
  const stream = client().messages.stream({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
  let text = '';
  stream.on('text', (d) => (text += d));
  const err = await t.throwsAsync(stream.finalMessage());
  t.true(err instanceof Anthropic.APIError);
  t.regex(err!.message, /ALT_RESPONSE_PATTERN_DENIED/);
  t.is(text, 'ok ');
  t.true(await eventually(() => h.sim.last()!.closedEarly));
});
