import test from 'ava';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { CUT_TAIL as TAIL, eventually, REAL_KEYS, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness();
  key = (await h.createKey({ agent: 'ops-bot', team: 'ops', models: ['anthropic.claude-*'] })).key;
});
test.after.always(async () => h?.close());

// The agent holds only its virtual key, presented as a Bedrock API key (bearer token).
// The SDK's default handler speaks HTTP/2, which the proxy accepts on the same port.
const client = (token = key) =>
  new BedrockRuntimeClient({ region: 'us-east-1', endpoint: h.proxyUrl, token: { token }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const messages = [{ role: 'user' as const, content: [{ text: 'hi' }] }];

function assertSigned(t: import('ava').ExecutionContext, headers: Record<string, unknown>) {
  const auth = String(headers.authorization);
  t.regex(auth, new RegExp(`^AWS4-HMAC-SHA256 Credential=${REAL_KEYS.awsAccessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$`));
  t.truthy(headers['x-amz-date']);
  t.false(auth.includes(key));
}

test.serial('converse: the bearer virtual key becomes a SigV4 signature upstream', async (t) => {
  const r = await client().send(new ConverseCommand({ modelId: MODEL, messages }));
  t.is(r.output?.message?.content?.[0]?.text, 'Hello from the simulated provider. All systems nominal.');
  const seen = h.sim.last()!;
  t.is(seen.path, `/model/${encodeURIComponent(MODEL)}/converse`);
  assertSigned(t, seen.headers);
});

test.serial('converse-stream: AWS event-stream frames arrive one by one', async (t) => {
  h.sim.next({ fragments: ['x', 'y', 'z'] });
  const r = await client().send(new ConverseStreamCommand({ modelId: MODEL, messages }));
  let text = '';
  let usage = 0;
  for await (const ev of r.stream!) {
    if (ev.contentBlockDelta?.delta?.text) text += ev.contentBlockDelta.delta.text;
    if (ev.metadata?.usage) usage = ev.metadata.usage.totalTokens ?? 0;
  }
  t.is(text, 'xyz');
  t.true(usage > 0);
});

test.serial('invoke and invoke-with-response-stream with an Anthropic body', async (t) => {
  const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
  const r = await client().send(new InvokeModelCommand({ modelId: MODEL, body, contentType: 'application/json' }));
  const out = JSON.parse(new TextDecoder().decode(r.body)) as { content: { text: string }[] };
  t.is(out.content[0]!.text, 'Hello from the simulated provider. All systems nominal.');
  assertSigned(t, h.sim.last()!.headers);
  h.sim.next({ fragments: ['p', 'q'] });
  const s = await client().send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body, contentType: 'application/json' }));
  let text = '';
  for await (const ev of s.body!) {
    const inner = JSON.parse(new TextDecoder().decode(ev.chunk!.bytes)) as { type: string; delta?: { text?: string } };
    if (inner.type === 'content_block_delta') text += inner.delta?.text ?? '';
  }
  t.is(text, 'pq');
});

test.serial('a model outside the key scope is AccessDeniedException and never reaches the provider', async (t) => {
  const before = h.sim.count();
  const err = await t.throwsAsync(client().send(new ConverseCommand({ modelId: 'meta.llama3-70b-instruct-v1:0', messages })));
  t.true(err instanceof AccessDeniedException);
  t.is((err as AccessDeniedException).$metadata.httpStatusCode, 403);
  t.regex(err!.message, /ALT_MODEL_NOT_ALLOWED/);
  t.is(h.sim.count(), before);
});

test.serial('a denied fragment ends the event stream with an exception frame the SDK raises', async (t) => {
  h.sim.next({ fragments: ['calm ', '-----BEGIN OPENSSH PRIVATE KEY-----', ...TAIL], fragmentDelayMs: 30 });
  const r = await client().send(new ConverseStreamCommand({ modelId: MODEL, messages }));
  let text = '';
  const err = await t.throwsAsync(async () => {
    for await (const ev of r.stream!) text += ev.contentBlockDelta?.delta?.text ?? '';
  });
  t.regex(err!.message, /ALT_RESPONSE_PATTERN_DENIED/);
  t.is(err!.name, 'ValidationException');
  t.is(text, 'calm ');
  t.true(await eventually(() => h.sim.last()!.closedEarly));
});
