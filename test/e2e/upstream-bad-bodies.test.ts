import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI, { AzureOpenAI } from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import { BedrockRuntimeClient, ConverseCommand, ConverseStreamCommand, InvokeModelWithResponseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import { stringify as stringifyYaml } from 'yaml';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';
import type { Script } from '../fixtures/simulator/index.js';

// Upstream answers Altrace cannot read as their provider's format: a success that is not the
// JSON or the event stream the request asked for is refused (never passed on unscanned, never
// empty success to the SDK); a stream that ends before its provider's final event ends with
// the provider's in-stream error. The providers' own SDKs are the clients.

let h: Harness;
let key: string;
const dir = mkdtempSync(join(tmpdir(), 'altrace-bad-bodies-'));
// A private key in what upstream sends: the shipped policy refuses it in any response.
const SECRET = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq0nQ3vHk2Ynb3cW1yFq8l\n-----END RSA PRIVATE KEY-----';
const SECRET_MARK = 'MIIEowIBAAKCAQEA7bq0nQ3vHk2Ynb3cW1yFq8l';

/** A stand-in MCP server answering every POST with what the test scripted. */
let mcpAnswer: (res: import('node:http').ServerResponse) => void = (res) => res.end();
let mcp: Server;

test.before(async () => {
  mcp = createServer((req, res) => {
    req.resume();
    req.on('end', () => mcpAnswer(res));
  });
  await new Promise<void>((resolve) => mcp.listen(0, '127.0.0.1', resolve));
  const policy = shippedPolicy();
  policy.destinations.upstreams.push('mcp:raw');
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ mcp: { servers: [{ name: 'raw', url: `http://127.0.0.1:${(mcp.address() as AddressInfo).port}/mcp` }] } }));
  h = await startHarness({ ALTRACE_CONFIG: join(dir, 'config.yaml'), ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'reader', team: 'qa', models: ['gpt-4o-mini', 'claude-sonnet-*', 'gemini-2.5-flash', 'anthropic.claude-*', 'chat-deploy'] })).key;
});
test.after.always(async () => {
  await h?.close();
  await new Promise((r) => mcp?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const openai = () => new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
const azure = () => new AzureOpenAI({ apiKey: key, endpoint: h.proxyUrl, apiVersion: '2024-10-21', deployment: 'chat-deploy', maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 });
const gemini = () => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.proxyUrl } });
const bedrock = () => new BedrockRuntimeClient({ region: 'us-east-1', endpoint: h.proxyUrl, token: { token: key }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const chat = [{ role: 'user' as const, content: 'hi' }];
const converse = [{ role: 'user' as const, content: [{ text: 'hi' }] }];

type Decision = { request_id: string; outcome: string; reason: string; stage?: string; detail?: string; output_tokens?: number; fragments?: number };

/** The newest decision in the audit log, once it is there. */
async function lastDecision(after: number): Promise<Decision> {
  let found: Decision | undefined;
  await eventually(
    async () => {
      const all = (await (await h.control('GET', '/audit?limit=50')).json()) as { records: { seq: number; decision?: Decision }[] };
      const newer = all.records.filter((r) => r.decision && r.seq > after).sort((a, b) => b.seq - a.seq);
      found = newer[0]?.decision;
      return found !== undefined;
    },
    2000,
    'a new decision record',
  );
  return found!;
}

async function auditSeq(): Promise<number> {
  const all = (await (await h.control('GET', '/audit?limit=1')).json()) as { records: { seq: number }[] };
  return all.records[0]?.seq ?? -1;
}

const raw = (contentType: string, body: string, status = 200): Script => ({ raw: { status, contentType, body } });
const BROKEN_JSON = `{"id":"chatcmpl-1","choices":[{"message":{"role":"assistant","content":${JSON.stringify(SECRET)}`;

// ---- item 2 and 3: a success Altrace cannot read is refused, in the provider's error shape ----

for (const [what, script] of [
  ['text/plain carrying a private key', raw('text/plain', SECRET)],
  ['JSON content type, broken JSON carrying a private key', raw('application/json', BROKEN_JSON)],
  ['an HTML page', raw('text/html', `<html><body>${SECRET}</body></html>`)],
  ['JSON that is not an object', raw('application/json', JSON.stringify(SECRET))],
  ['an empty body', raw('application/json', '')],
] as const) {
  test.serial(`OpenAI: a 200 answer that is ${what} is ALT_UPSTREAM_BAD_RESPONSE, and the SDK raises`, async (t) => {
    h.sim.next(script);
    const err = await t.throwsAsync(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: chat }));
    t.true(err instanceof OpenAI.APIError, String(err));
    const e = err as InstanceType<typeof OpenAI.APIError>;
    t.is(e.status, 502);
    t.is(e.code, 'ALT_UPSTREAM_BAD_RESPONSE');
    t.false(JSON.stringify(e.error).includes(SECRET_MARK));
    t.false(e.message.includes(SECRET_MARK));
  });
}

test.serial('the refused body never reaches the client, whatever client it is', async (t) => {
  h.sim.next(raw('text/plain', SECRET));
  const res = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: chat }),
  });
  t.is(res.status, 502);
  t.is(res.headers.get('x-altrace-reason'), 'ALT_UPSTREAM_BAD_RESPONSE');
  t.false((await res.text()).includes(SECRET_MARK));
});

test.serial('Anthropic: broken JSON is an APIError 502, a stream answered with HTML too', async (t) => {
  h.sim.next(raw('application/json', '{"type":"message","content":[{"type":"text","text":"' + SECRET_MARK));
  const e1 = await t.throwsAsync(anthropic().messages.create({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: chat }));
  t.true(e1 instanceof Anthropic.APIError);
  t.is((e1 as InstanceType<typeof Anthropic.APIError>).status, 502);
  t.regex(e1!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
  t.false(e1!.message.includes(SECRET_MARK));

  h.sim.next(raw('text/html', '<html>captive portal</html>'));
  const stream = anthropic().messages.stream({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: chat });
  const e2 = await t.throwsAsync(stream.finalMessage());
  t.true(e2 instanceof Anthropic.APIError);
  t.regex(e2!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
});

test.serial('OpenAI: a stream request answered with a JSON completion is refused, not delivered as an empty stream', async (t) => {
  const completion = { id: 'c', object: 'chat.completion', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: 'whole' }, finish_reason: 'stop' }] };
  h.sim.next(raw('application/json', JSON.stringify(completion)));
  const err = await t.throwsAsync(async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: chat });
    for await (const _ of stream);
  });
  t.true(err instanceof OpenAI.APIError);
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_UPSTREAM_BAD_RESPONSE');
});

test.serial('Gemini: a stream answered with JSON, and a generate answered with text, are ApiErrors', async (t) => {
  h.sim.next(raw('application/json', JSON.stringify({ candidates: [{ content: { parts: [{ text: 'x' }] } }] })));
  const e1 = await t.throwsAsync(async () => {
    const stream = await gemini().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' });
    for await (const _ of stream);
  });
  t.true(e1 instanceof ApiError, String(e1));
  t.regex(e1!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
  h.sim.next(raw('text/plain', SECRET));
  const e2 = await t.throwsAsync(gemini().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
  t.true(e2 instanceof ApiError);
  t.regex(e2!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
  t.false(e2!.message.includes(SECRET_MARK));
});

test.serial('Bedrock: Converse answered with text/plain is an exception, ConverseStream answered with JSON too', async (t) => {
  h.sim.next(raw('text/plain', SECRET));
  const e1 = await t.throwsAsync(bedrock().send(new ConverseCommand({ modelId: MODEL, messages: converse })));
  t.regex(e1!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
  t.false(e1!.message.includes(SECRET_MARK));
  h.sim.next(raw('application/json', JSON.stringify({ output: { message: { role: 'assistant', content: [{ text: 'x' }] } } })));
  const e2 = await t.throwsAsync(async () => {
    const r = await bedrock().send(new ConverseStreamCommand({ modelId: MODEL, messages: converse }));
    for await (const _ of r.stream!);
  });
  t.regex(e2!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
});

// ---- upstream errors: passed through as the provider wrote them, after their text was scanned ----

test.serial('an upstream error body is passed through for the SDK (its type, status and message)', async (t) => {
  h.sim.next({ error: { status: 400, message: 'max_tokens is too large for this model' } });
  const err = await t.throwsAsync(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: chat }));
  t.true(err instanceof OpenAI.BadRequestError);
  t.regex(err!.message, /max_tokens is too large/);
  h.sim.next(raw('text/html', '<html>502 Bad Gateway</html>', 502));
  const e2 = await t.throwsAsync(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: chat }));
  t.is((e2 as InstanceType<typeof OpenAI.APIError>).status, 502);
  t.regex(e2!.message, /502 Bad Gateway/);
});

test.serial('an upstream error body carrying a private key is refused, as text or JSON', async (t) => {
  for (const script of [raw('text/plain', `debug dump\n${SECRET}`, 500), { error: { status: 400, message: `bad request: ${SECRET}` } }]) {
    h.sim.next(script);
    const res = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: chat }),
    });
    const body = await res.text();
    t.false(body.includes(SECRET_MARK), body);
    t.truthy(res.headers.get('x-altrace-reason'));
  }
});

// ---- item 4: a stream that ends before its final event ends with the provider's error ----

for (const mode of ['no-terminal', 'mid-event'] as const) {
  test.serial(`OpenAI chat stream (${mode}): the SDK raises ALT_UPSTREAM_RESET after the text delivered; settled and audited`, async (t) => {
    const seq = await auditSeq();
    h.sim.next({ fragments: ['partial ', 'answer '], truncateStream: mode });
    const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: chat });
    let text = '';
    const err = await t.throwsAsync(async () => {
      for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    });
    t.true(err instanceof OpenAI.APIError, String(err));
    t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_UPSTREAM_RESET');
    t.is(text, 'partial answer ');
    const d = await lastDecision(seq);
    t.is(d.reason, 'ALT_UPSTREAM_RESET');
    t.is(d.stage, 'upstream');
    t.regex(d.detail ?? '', mode === 'mid-event' ? /inside an event/ : /before its final event/);
    t.true((d.output_tokens ?? 0) > 0, 'the text delivered is settled');
  });

  test.serial(`OpenAI Responses stream (${mode}) raises`, async (t) => {
    h.sim.next({ fragments: ['a', 'b'], truncateStream: mode });
    const stream = await openai().responses.create({ model: 'gpt-4o-mini', input: 'hi', stream: true });
    let text = '';
    const err = await t.throwsAsync(async () => {
      for await (const ev of stream) if (ev.type === 'response.output_text.delta') text += ev.delta;
    });
    t.regex(String(err), /ALT_UPSTREAM_RESET/);
    t.is(text, 'ab');
  });

  test.serial(`Azure chat stream (${mode}) raises`, async (t) => {
    h.sim.next({ fragments: ['a', 'b'], truncateStream: mode });
    const stream = await azure().chat.completions.create({ model: 'ignored', stream: true, messages: chat });
    const err = await t.throwsAsync(async () => {
      for await (const _ of stream);
    });
    t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_UPSTREAM_RESET');
  });

  test.serial(`Anthropic stream (${mode}): finalMessage raises, not a partial message`, async (t) => {
    h.sim.next({ fragments: ['Hel', 'lo'], truncateStream: mode });
    const stream = anthropic().messages.stream({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: chat });
    let text = '';
    stream.on('text', (d) => (text += d));
    const err = await t.throwsAsync(stream.finalMessage());
    t.true(err instanceof Anthropic.APIError, String(err));
    t.regex(err!.message, /ALT_UPSTREAM_RESET/);
    t.is(text, 'Hello');
  });

  test.serial(`Gemini SSE stream (${mode}) raises`, async (t) => {
    h.sim.next({ fragments: ['a', 'b'], truncateStream: mode });
    const parts: string[] = [];
    const err = await t.throwsAsync(async () => {
      const stream = await gemini().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' });
      for await (const chunk of stream) parts.push(chunk.text ?? '');
    });
    t.true(err instanceof ApiError, String(err));
    t.regex(err!.message, /ALT_UPSTREAM_RESET/);
    t.is(parts.join(''), 'ab');
  });

  test.serial(`Gemini JSON-array stream (${mode}) ends with an error element, never a closing bracket alone`, async (t) => {
    h.sim.next({ fragments: ['x', 'y'], truncateStream: mode });
    const res = await fetch(`${h.proxyUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    const array = JSON.parse(await res.text()) as { error?: { details: { reason: string }[] } }[];
    t.is(array.length, 3);
    t.is(array[2]!.error?.details[0]!.reason, 'ALT_UPSTREAM_RESET');
  });

  test.serial(`Bedrock ConverseStream and InvokeModelWithResponseStream (${mode}) raise`, async (t) => {
    h.sim.next({ fragments: ['calm ', 'sea'], truncateStream: mode });
    let text = '';
    const e1 = await t.throwsAsync(async () => {
      const r = await bedrock().send(new ConverseStreamCommand({ modelId: MODEL, messages: converse }));
      for await (const ev of r.stream!) text += ev.contentBlockDelta?.delta?.text ?? '';
    });
    t.regex(e1!.message, /ALT_UPSTREAM_RESET/);
    t.is(text, 'calm sea');
    h.sim.next({ fragments: ['calm ', 'sea'], truncateStream: mode });
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: chat });
    const e2 = await t.throwsAsync(async () => {
      const r = await bedrock().send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body, contentType: 'application/json' }));
      for await (const _ of r.body!);
    });
    t.regex(e2!.message, /ALT_UPSTREAM_RESET/);
  });
}

test.serial('complete streams still end normally (the final event is recognised for each provider)', async (t) => {
  h.sim.next({ fragments: ['a', 'b'] });
  const s1 = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: chat });
  let text = '';
  for await (const c of s1) text += c.choices[0]?.delta?.content ?? '';
  t.is(text, 'ab');
  h.sim.next({ fragments: ['c', 'd'] });
  const final = await anthropic().messages.stream({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: chat }).finalMessage();
  t.is((final.content[0] as { text: string }).text, 'cd');
  h.sim.next({ fragments: ['e', 'f'] });
  const parts: string[] = [];
  for await (const chunk of await gemini().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' })) parts.push(chunk.text ?? '');
  t.is(parts.join(''), 'ef');
  h.sim.next({ fragments: ['g', 'h'] });
  const r = await bedrock().send(new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: chat }), contentType: 'application/json' }));
  let chunks = 0;
  for await (const _ of r.body!) chunks++;
  t.true(chunks > 2);
});

// ---- MCP: a server's answer is content the agent did not write; unreadable is refused ----

async function mcpCall(): Promise<Response> {
  return fetch(`${h.proxyUrl}/mcp/raw`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'read_file', arguments: { path: 'id_rsa' } } }),
  });
}

for (const [what, contentType, body] of [
  ['text/plain', 'text/plain', SECRET],
  ['broken JSON', 'application/json', `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":${JSON.stringify(SECRET)}`],
] as const) {
  test.serial(`MCP: a server answering ${what} is refused with a JSON-RPC error, the key never delivered`, async (t) => {
    mcpAnswer = (res) => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(body);
    };
    const res = await mcpCall();
    const text = await res.text();
    t.false(text.includes(SECRET_MARK));
    t.is(res.headers.get('x-altrace-reason'), 'ALT_UPSTREAM_BAD_RESPONSE');
    const msg = JSON.parse(text) as { id: number; error: { data: { altrace: { reason: string } } } };
    t.is(msg.id, 7);
    t.is(msg.error.data.altrace.reason, 'ALT_UPSTREAM_BAD_RESPONSE');
  });
}

test.serial('MCP: an event stream that ends without answering the request ends with its error response', async (t) => {
  mcpAnswer = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'working' } })}\n\n`);
    res.end();
  };
  const res = await mcpCall();
  const text = await res.text();
  const answers = text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { id?: number; error?: { data: { altrace: { reason: string } } } });
  t.is(answers.length, 2);
  t.is(answers[1]!.id, 7);
  t.is(answers[1]!.error?.data.altrace.reason, 'ALT_UPSTREAM_RESET');
});

test.serial('MCP: a complete event stream and an empty 202 still pass', async (t) => {
  mcpAnswer = (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(`event: message\ndata: ${JSON.stringify({ jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'fine' }] } })}\n\n`);
  };
  const res = await mcpCall();
  t.is(res.status, 200);
  t.regex(await res.text(), /"fine"/);
  mcpAnswer = (res) => {
    res.writeHead(202);
    res.end();
  };
  const note = await fetch(`${h.proxyUrl}/mcp/raw`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }),
  });
  t.is(note.status, 202);
});

// ---- answers nested absurdly deep: JSON.parse copes, every walk after it (and the SDKs) overflow ----

/** `depth` arrays inside one another, as JSON text. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
const withContent = (content: string) => `{"id":"c","object":"chat.completion","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":${content}},"finish_reason":"stop"}]}`;

for (const [what, body] of [
  ['its message content nested 100,000 deep', withContent(nested(100_000))],
  ['only an array nested 100,000 deep', nested(100_000)],
  // Regression: tool inputs re-serialised by the adapters overflowed the stack here (500 ALT_STAGE_FAILED).
  ['its message content nested 5,000 deep', withContent(nested(5_000))],
] as const) {
  test.serial(`OpenAI: a 200 answer with ${what} is a 502 ALT_UPSTREAM_BAD_RESPONSE APIError, never passed on unscanned`, async (t) => {
    const seq = await auditSeq();
    h.sim.next(raw('application/json', body));
    const err = await t.throwsAsync(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: chat }));
    t.true(err instanceof OpenAI.APIError, String(err));
    t.is((err as InstanceType<typeof OpenAI.APIError>).status, 502);
    t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_UPSTREAM_BAD_RESPONSE');
    const d = await lastDecision(seq);
    t.is(d.reason, 'ALT_UPSTREAM_BAD_RESPONSE');
    t.regex(d.detail ?? '', /more than 1024 levels deep/);
  });
}

test.serial('an answer nested within the bound (1,000 deep) is still delivered', async (t) => {
  h.sim.next(raw('application/json', withContent(`"fine","x":${nested(1000)}`)));
  const done = await openai().chat.completions.create({ model: 'gpt-4o-mini', messages: chat });
  t.is(done.choices[0]!.message.content, 'fine');
});

for (const status of [400, 500]) {
  test.serial(`regression: a ${status} error body nested 100,000 deep no longer crashes the OpenAI SDK; it is a 502 naming the unreadable error`, async (t) => {
    for (const body of [nested(100_000), `{"error":${nested(100_000)}}`]) {
      h.sim.next(raw('application/json', body, status));
      const err = await t.throwsAsync(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: chat }));
      t.true(err instanceof OpenAI.APIError, String(err));
      const e = err as InstanceType<typeof OpenAI.APIError>;
      t.is(e.status, 502);
      t.is(e.code, 'ALT_UPSTREAM_BAD_RESPONSE');
      t.regex(e.message, new RegExp(`answered ${status}, and its error body was unreadable`));
    }
  });
}

test.serial('Anthropic: a tool_use input nested 5,000 deep is an APIError 502, not a 500 from a stack overflow', async (t) => {
  h.sim.next(raw('application/json', `{"id":"m","type":"message","role":"assistant","model":"claude-sonnet-7-0","content":[{"type":"tool_use","id":"t","name":"f","input":{"a":${nested(5_000)}}}],"stop_reason":"tool_use","usage":{"input_tokens":1,"output_tokens":1}}`));
  const err = await t.throwsAsync(anthropic().messages.create({ model: 'claude-sonnet-7-0', max_tokens: 64, messages: chat }));
  t.true(err instanceof Anthropic.APIError, String(err));
  t.is((err as InstanceType<typeof Anthropic.APIError>).status, 502);
  t.regex(err!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
});

test.serial('OpenAI stream: an event nested too deep ends the stream with the in-stream ALT_UPSTREAM_BAD_RESPONSE, after what was delivered', async (t) => {
  const chunk = (content: string) => `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":${content}}}]}\n\n`;
  h.sim.next(raw('text/event-stream', chunk('"first "') + chunk(nested(100_000)) + 'data: [DONE]\n\n'));
  const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: chat });
  let text = '';
  const err = await t.throwsAsync(async () => {
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
  });
  t.true(err instanceof OpenAI.APIError, String(err));
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_UPSTREAM_BAD_RESPONSE');
  t.is(text, 'first ');
});

test.serial('regression: Gemini stream with functionCall args nested 5,000 deep ends with ALT_UPSTREAM_BAD_RESPONSE (was ALT_UPSTREAM_UNREACHABLE)', async (t) => {
  h.sim.next(raw('text/event-stream', `data: {"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"name":"f","args":{"a":${nested(5_000)}}}}]},"finishReason":"STOP"}]}\n\n`));
  const err = await t.throwsAsync(async () => {
    const stream = await gemini().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' });
    for await (const _ of stream);
  });
  t.true(err instanceof ApiError, String(err));
  t.regex(err!.message, /ALT_UPSTREAM_BAD_RESPONSE/);
});

test.serial('MCP: a JSON answer or an event nested 100,000 deep is a JSON-RPC error ALT_UPSTREAM_BAD_RESPONSE', async (t) => {
  const deep = `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"x"}],"structuredContent":{"a":${nested(100_000)}}}}`;
  for (const contentType of ['application/json', 'text/event-stream']) {
    mcpAnswer = (res) => {
      res.writeHead(200, { 'content-type': contentType });
      res.end(contentType === 'application/json' ? deep : `event: message\ndata: ${deep}\n\n`);
    };
    const res = await mcpCall();
    const text = await res.text();
    const last = text.startsWith('{') ? text : text.split('\n').filter((l) => l.startsWith('data: ')).pop()!.slice(6);
    const msg = JSON.parse(last) as { id: number; error: { data: { altrace: { reason: string } } } };
    t.is(msg.id, 7, contentType);
    t.is(msg.error.data.altrace.reason, 'ALT_UPSTREAM_BAD_RESPONSE', contentType);
  }
});
