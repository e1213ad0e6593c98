import test from 'ava';
import OpenAI, { AzureOpenAI } from 'openai';
import { CUT_TAIL as TAIL, eventually, REAL_KEYS, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness();
  key = (await h.createKey({ agent: 'planner', team: 'research', models: ['gpt-4o-mini', 'text-embedding-*', 'chat-deploy'] })).key;
});
test.after.always(async () => h?.close());

const client = () => new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });

test.serial('chat completion: the provider gets the real key, the agent gets the answer and Altrace headers', async (t) => {
  const { data, response } = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }).withResponse();
  t.is(data.choices[0]!.message.content, 'Hello from the simulated provider. All systems nominal.');
  const seen = h.sim.last()!;
  t.is(seen.headers.authorization, `Bearer ${REAL_KEYS.openai}`);
  t.is(seen.path, '/v1/chat/completions');
  t.regex(response.headers.get('x-altrace-request-id') ?? '', /^[0-9a-f-]{36}$/);
  t.regex(response.headers.get('x-altrace-overhead-ms') ?? '', /^\d+\.\d{3}$/);
  t.false(JSON.stringify(data).includes(REAL_KEYS.openai));
});

test.serial('chat completion stream arrives fragment by fragment', async (t) => {
  h.sim.next({ fragments: ['one ', 'two ', 'three'] });
  const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] });
  const deltas: string[] = [];
  for await (const chunk of stream) deltas.push(chunk.choices[0]?.delta?.content ?? '');
  t.is(deltas.join(''), 'one two three');
  t.true(deltas.includes('two '));
});

test.serial('responses API, streaming and not', async (t) => {
  const r = await client().responses.create({ model: 'gpt-4o-mini', input: 'hello' });
  t.is(r.output_text, 'Hello from the simulated provider. All systems nominal.');
  h.sim.next({ fragments: ['a', 'b'] });
  const stream = await client().responses.create({ model: 'gpt-4o-mini', input: 'hello', stream: true });
  let text = '';
  for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
  t.is(text, 'ab');
});

test.serial('embeddings and models', async (t) => {
  const e = await client().embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
  t.is(e.data.length, 2);
  t.is(e.data[0]!.embedding.length, 4);
  const models = await client().models.list();
  t.true(models.data.some((m) => m.id === 'gpt-4o-mini'));
});

test.serial('regression: embeddings sent with a stray "stream": true come back as embeddings (a 502 ALT_UPSTREAM_BAD_RESPONSE before)', async (t) => {
  // OpenAI-compatible servers ignore the flag on embeddings and answer JSON, as the simulator does.
  const e = await client().embeddings.create({ model: 'text-embedding-3-small', input: ['a'], stream: true } as never);
  t.is(e.data.length, 1);
});

test.serial('a model outside the key scope is an APIError 403 with the reason code, and never reaches the provider', async (t) => {
  const before = h.sim.count();
  const err = await t.throwsAsync(client().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
  t.true(err instanceof OpenAI.APIError);
  const e = err as InstanceType<typeof OpenAI.APIError>;
  t.is(e.status, 403);
  t.is(e.code, 'ALT_MODEL_NOT_ALLOWED');
  const altrace = (e.error as { altrace: Record<string, string> }).altrace;
  t.is(altrace.reason, 'ALT_MODEL_NOT_ALLOWED');
  t.is(altrace.stage, 'model-scope');
  t.regex(altrace.hint ?? '', /gpt-4o-mini/);
  t.is(e.headers?.get('x-altrace-reason'), 'ALT_MODEL_NOT_ALLOWED');
  t.is(h.sim.count(), before);
});

test.serial('unknown, revoked and real keys are 401 AuthenticationError', async (t) => {
  const before = h.sim.count();
  const unknown = new OpenAI({ apiKey: 'alt-not-a-key-we-issued', baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const e1 = await t.throwsAsync(unknown.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }));
  t.true(e1 instanceof OpenAI.AuthenticationError);
  t.is((e1 as InstanceType<typeof OpenAI.APIError>).code, 'ALT_KEY_UNKNOWN');

  const real = new OpenAI({ apiKey: 'sk-proj-realkey', baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const e2 = await t.throwsAsync(real.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }));
  t.is((e2 as InstanceType<typeof OpenAI.APIError>).code, 'ALT_REAL_KEY_REJECTED');

  const doomed = await h.createKey({ agent: 'a2', team: 'research' });
  t.is((await h.control('DELETE', `/keys/${doomed.id}`)).status, 200);
  const revoked = new OpenAI({ apiKey: doomed.key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const e3 = await t.throwsAsync(revoked.chat.completions.create({ model: 'gpt-4o-mini', messages: [] }));
  t.is((e3 as InstanceType<typeof OpenAI.APIError>).code, 'ALT_KEY_REVOKED');
  t.is(h.sim.count(), before);
});

test.serial('a violating fragment never reaches the client; the stream ends with an error event and upstream is aborted', async (t) => {
  h.sim.next({ fragments: ['safe ', 'still safe ', '-----BEGIN RSA PRIVATE KEY-----', 'MIIE', ...TAIL], fragmentDelayMs: 30 });
  const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] });
  const got: string[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const chunk of stream) got.push(chunk.choices[0]?.delta?.content ?? '');
  });
  t.true(err instanceof OpenAI.APIError);
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_RESPONSE_PATTERN_DENIED');
  t.is(got.join(''), 'safe still safe ');
  t.false(got.join('').includes('BEGIN'));
  t.true(await eventually(() => h.sim.last()!.closedEarly), 'upstream connection was aborted');
});

test.serial('a client that disconnects mid-stream aborts the upstream request', async (t) => {
  h.sim.next({ fragments: Array.from({ length: 50 }, (_, i) => `f${i} `), fragmentDelayMs: 20 });
  const ac = new AbortController();
  const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'x' }] }, { signal: ac.signal });
  let n = 0;
  try {
    for await (const _ of stream) if (++n === 3) ac.abort();
  } catch {
    // the SDK may end the iteration quietly or throw an abort error; either way the client is gone
  }
  t.true(n < 50);
  const record = h.sim.last()!;
  t.true(await eventually(() => record.closedEarly), 'the simulator saw the upstream connection close early');
});

test.serial('Azure OpenAI client: deployment path, api-key injected, deployment is the model identity', async (t) => {
  const azure = new AzureOpenAI({ apiKey: key, endpoint: h.proxyUrl, apiVersion: '2024-10-21', deployment: 'chat-deploy', maxRetries: 0 });
  const r = await azure.chat.completions.create({ model: 'ignored', messages: [{ role: 'user', content: 'hi' }] });
  t.is(r.choices[0]!.message.content, 'Hello from the simulated provider. All systems nominal.');
  const seen = h.sim.last()!;
  t.is(seen.path, '/openai/deployments/chat-deploy/chat/completions');
  t.is(seen.headers['api-key'], REAL_KEYS.azure);
  t.is(seen.query['api-version'], '2024-10-21');
  const other = new AzureOpenAI({ apiKey: key, endpoint: h.proxyUrl, apiVersion: '2024-10-21', deployment: 'other-deploy', maxRetries: 0 });
  const err = await t.throwsAsync(other.chat.completions.create({ model: 'x', messages: [] }));
  t.is((err as InstanceType<typeof OpenAI.APIError>).status, 403);
});

test.serial('logs: one decision line per request, with no prompt text and no key', async (t) => {
  const secretPrompt = 'my-very-private-prompt-text-42';
  const { response } = await client().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: secretPrompt }] }).withResponse();
  const id = response.headers.get('x-altrace-request-id')!;
  // A loop on another thread logs through the main one: its line may follow the response.
  await eventually(() => h.logs.some((l) => l.includes(id)), 2000, 'the request\'s decision line');
  const all = h.logs.join('');
  t.false(all.includes(secretPrompt));
  t.false(all.includes(key));
  t.false(all.includes(REAL_KEYS.openai));
  t.false(all.includes('Hello from the simulated provider'));
  const decisions = h.logs.filter((l) => l.includes('"msg":"decision"'));
  t.true(decisions.length >= 8);
  const last = JSON.parse(decisions.find((l) => l.includes(id))!);
  t.is(last.outcome, 'allow');
  t.is(last.agent, 'planner');
  t.is(last.model, 'gpt-4o-mini');
});

test.serial('a stream’s logged overhead is the time added before its first byte, not the stream’s length', async (t) => {
  h.sim.next({ fragments: ['a ', 'b ', 'c ', 'd ', 'e'], fragmentDelayMs: 80 });
  const { data: stream, response } = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'slow' }] }).withResponse();
  for await (const _ of stream);
  const id = response.headers.get('x-altrace-request-id')!;
  await eventually(() => h.logs.some((l) => l.includes(id)), 2000, 'the stream\'s decision line');
  const last = JSON.parse(h.logs.find((l) => l.includes(id))!) as { stream?: boolean; overhead_ms: number };
  t.true(last.stream);
  // The stream itself lasted 400 ms; the proxy's own share before the first byte is far below that.
  t.true(last.overhead_ms < 200, `overhead_ms ${last.overhead_ms}`);
});
