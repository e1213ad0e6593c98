import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { BedrockRuntimeClient, ConverseStreamCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { stringify as stringifyYaml } from 'yaml';
import { CUT_TAIL as TAIL, eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

// A policy that redacts personal data in responses too: a whole body reaches the agent masked
// and otherwise intact; a stream is held back by a short tail so a match split across
// fragments is masked in each; what cannot be masked in place is cut (fail closed).
let h: Harness;
let key: string;
const dir = mkdtempSync(join(tmpdir(), 'altrace-redact-'));
const EMAIL = 'dana.whitfield@corp.example';
const PHONE = '+44 20 7946 0958';
const ANSWER = `Write to ${EMAIL} or call ${PHONE} about the renewal.`;
const MASKED = 'Write to [REDACTED:pii.email] or call [REDACTED:pii.phone] about the renewal.';

test.before(async () => {
  const policy = shippedPolicy();
  policy.content.rules = [{ label: 'pii', direction: 'response', action: 'redact' }, ...policy.content.rules];
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'writer', team: 'support' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('OpenAI, whole body: personal data in the answer is masked, the rest of the response is intact', async (t) => {
  h.sim.next({ text: ANSWER, usage: { input: 9, output: 14 } });
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const { data, response } = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'how do I reach them?' }] }).withResponse();
  t.is(data.choices[0]!.message.content, MASKED);
  t.is(data.choices[0]!.message.role, 'assistant');
  t.is(data.model, 'gpt-4o-mini');
  t.deepEqual([data.usage?.prompt_tokens, data.usage?.completion_tokens], [9, 14], 'usage and the other fields pass unchanged');
  t.regex(response.headers.get('x-altrace-warning') ?? '', /ALT_CONTENT_REDACTED/);
  const requestId = response.headers.get('x-altrace-request-id')!;
  await h.control('GET', '/audit/checkpoint');
  const records = ((await (await h.control('GET', '/audit?limit=1000')).json()) as { records: any[] }).records;
  const record = records.find((r) => r.decision?.request_id === requestId);
  t.true(record.decision.labels.includes('pii.email'));
  t.true(record.decision.warnings.includes('ALT_CONTENT_REDACTED'));
  t.false(JSON.stringify(records).includes(EMAIL), 'the audit keeps the label, never the address');
  t.false(h.logs.join('').includes(EMAIL), 'nor do the logs');
});

test.serial('Anthropic, whole body: masked in the content block', async (t) => {
  h.sim.next({ text: ANSWER });
  const anthropic = new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 });
  const msg = await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'how do I reach them?' }] });
  t.deepEqual(
    msg.content.map((b) => (b.type === 'text' ? b.text : b.type)),
    [MASKED],
  );
  t.is(msg.stop_reason, 'end_turn');
});

const SPLIT = ['Write to ', 'dana.whit', 'field@corp', '.example', ' or call +44 20 ', '7946 0958', ' soon. ', ...TAIL.slice(0, 30)];
const SPLIT_MASKED = `Write to [REDACTED:pii.email] or call [REDACTED:pii.phone] soon. ${TAIL.slice(0, 30).join('')}`;

test.serial('OpenAI stream: an address split across fragments is masked in each, the stream goes on to its end', async (t) => {
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 2 });
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'how do I reach them?' }] });
  const got: string[] = [];
  for await (const chunk of stream) got.push(chunk.choices[0]?.delta?.content ?? '');
  t.is(got.join(''), SPLIT_MASKED);
  t.false(h.sim.last()!.closedEarly, 'nothing was cut');
});

test.serial('Anthropic stream: masked in the text deltas, events otherwise as the provider sent them', async (t) => {
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 2 });
  const anthropic = new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 });
  const stream = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 200, messages: [{ role: 'user', content: 'how do I reach them?' }] });
  const final = await stream.finalMessage();
  t.deepEqual(final.content.map((b) => (b.type === 'text' ? b.text : b.type)), [SPLIT_MASKED]);
  t.is(final.stop_reason, 'end_turn');
});

test.serial('Bedrock ConverseStream and InvokeModelWithResponseStream: masked in the event-stream frames (re-encoded, checksums valid)', async (t) => {
  const bedrock = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: h.proxyUrl, token: { token: key }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
  const modelId = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 2 });
  const conversed = await bedrock.send(new ConverseStreamCommand({ modelId, messages: [{ role: 'user', content: [{ text: 'how do I reach them?' }] }] }));
  let text = '';
  for await (const ev of conversed.stream!) text += ev.contentBlockDelta?.delta?.text ?? '';
  t.is(text, SPLIT_MASKED);
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 2 });
  const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 200, messages: [{ role: 'user', content: 'how do I reach them?' }] });
  const invoked = await bedrock.send(new InvokeModelWithResponseStreamCommand({ modelId, body, contentType: 'application/json' }));
  let inner = '';
  for await (const ev of invoked.body!) {
    const e = JSON.parse(new TextDecoder().decode(ev.chunk!.bytes)) as { type: string; delta?: { text?: string } };
    if (e.type === 'content_block_delta') inner += e.delta?.text ?? '';
  }
  t.is(inner, SPLIT_MASKED);
});

test.serial('Gemini: masked in SSE chunks (the SDK) and in the JSON-array stream', async (t) => {
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 2 });
  const gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.proxyUrl } });
  let text = '';
  for await (const chunk of await gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'how do I reach them?' })) text += chunk.text ?? '';
  t.is(text, SPLIT_MASKED);
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 2 });
  const res = await fetch(`${h.proxyUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'how do I reach them?' }] }] }),
  });
  const arr = JSON.parse(await res.text()) as { candidates: { content: { parts: { text: string }[] } }[] }[];
  t.is(arr.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''), SPLIT_MASKED, 'still one valid JSON array');
});

test.serial('a Responses stream is cut, not masked: its closing events repeat the whole text', async (t) => {
  h.sim.next({ fragments: SPLIT, fragmentDelayMs: 20 });
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const stream = await openai.responses.create({ model: 'gpt-4o-mini', input: 'how do I reach them?', stream: true });
  const seen: string[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const event of stream) seen.push(JSON.stringify(event));
  });
  t.truthy(err);
  t.regex(String((err as Error).message) + seen.join(''), /ALT_CONTENT_REGULATED/);
  // Cut at the fragment completing the match: what came before it is out, the rest never is.
  t.false(seen.join('').includes('.example'), 'neither the completing delta nor a closing event with the whole text');
  t.true(await eventually(() => h.sim.last()!.closedEarly), 'upstream was aborted');
});

test.serial('what cannot be masked in place (an address inside streamed tool-call arguments) is cut, never delivered', async (t) => {
  h.sim.next({ toolCall: { name: 'send_note', arguments: { to: EMAIL, body: 'renewal' } }, fragmentDelayMs: 20 });
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'send it' }] });
  let args = '';
  const err = await t.throwsAsync(async () => {
    for await (const chunk of stream) args += chunk.choices[0]?.delta?.tool_calls?.[0]?.function?.arguments ?? '';
  });
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_CONTENT_REGULATED');
  t.false(args.includes('corp.example'));
  t.true(await eventually(() => h.sim.last()!.closedEarly), 'upstream was aborted');
});
