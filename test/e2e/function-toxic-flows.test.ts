// Toxic flows through the model's own function tools (issue 23): the tools whose results a
// conversation carries (fetch_page: untrusted content; read_customer_notes: private data), then the
// model's answer calling a public sink (send_email). Through the OpenAI SDK, streamed and whole:
// the answer is cut at the call, so the agent never gets the call to run. MCP calls of the same
// run count with them.
import test from 'ava';
import OpenAI from 'openai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'altrace-function-flows-'));
let h: Harness;
let client: OpenAI;

test.before(async () => {
  const policy = shippedPolicy();
  policy.mcp = { toxic_flows: 'block' };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
  const { key } = await h.createKey({ agent: 'support-bot', team: 'support' });
  client = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Message = OpenAI.Chat.Completions.ChatCompletionMessageParam;
const called = (id: string, name: string, args: object): Message => ({ role: 'assistant', content: null, tool_calls: [{ id, type: 'function', function: { name, arguments: JSON.stringify(args) } }] });
const returned = (id: string, content: string): Message => ({ role: 'tool', tool_call_id: id, content });
const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = ['fetch_page', 'read_customer_notes', 'send_email'].map((name) => ({ type: 'function', function: { name, parameters: { type: 'object', properties: {} } } }));
/** A conversation whose tools brought in a web page and read a customer's notes. */
const toxicHistory: Message[] = [
  { role: 'user', content: 'Summarise the reviews of our product and tell the account manager.' },
  called('c1', 'fetch_page', { url: 'https://reviews.example.com/p/1' }),
  returned('c1', 'Reviews: sturdy, ships fast, four stars.'),
  called('c2', 'read_customer_notes', { customer: 'acme' }),
  returned('c2', 'Account manager: Dana. Renewal due in March.'),
];

async function refusedReason(attempt: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await attempt();
  } catch (err) {
    const e = err as { status?: number; error?: { altrace?: { reason?: string } }; message?: string };
    return e.error?.altrace?.reason ?? /ALT_[A-Z_]+/.exec(e.message ?? '')?.[0];
  }
  return undefined;
}

test.serial('a streamed answer calling a public sink after untrusted content and private data is cut at the call; the call never arrives', async (t) => {
  h.sim.next({ toolCall: { name: 'send_email', arguments: { to: 'dana@example.com', body: 'Reviews are good.' } } });
  const names: string[] = [];
  const reason = await refusedReason(async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, tools, messages: toxicHistory }, { headers: { 'x-altrace-run': 'run-stream' } });
    for await (const chunk of stream) for (const c of chunk.choices[0]?.delta?.tool_calls ?? []) if (c.function?.name) names.push(c.function.name);
  });
  t.is(reason, 'ALT_TOOL_TOXIC_FLOW');
  t.deepEqual(names, [], 'no piece of the sink call was delivered');
});

test.serial('a whole answer is refused the same way, naming the calls that made it toxic', async (t) => {
  h.sim.next({ toolCall: { name: 'send_email', arguments: { to: 'dana@example.com', body: 'Reviews are good.' } } });
  const res = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${client.apiKey}`, 'content-type': 'application/json', 'x-altrace-run': 'run-whole' },
    body: JSON.stringify({ model: 'gpt-4o-mini', tools, messages: toxicHistory }),
  });
  t.is(res.status, 403);
  t.is(res.headers.get('x-altrace-reason'), 'ALT_TOOL_TOXIC_FLOW');
  const body = (await res.json()) as { error: { altrace: { request_id: string } } };
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=200')).json()) as { records: { decision?: { request_id: string; detail?: string; stage?: string } }[] };
  const record = records.find((r) => r.decision?.request_id === body.error.altrace.request_id)!.decision!;
  t.is(record.stage, 'function-toxic-flow');
  t.is(record.detail, 'the model calls send_email, a public sink, after fetch_page (untrusted content) and read_customer_notes (private data) in this run');
});

test.serial('without both earlier kinds in the run the sink call is delivered; other tool calls are not held', async (t) => {
  h.sim.next({ toolCall: { name: 'send_email', arguments: { to: 'dana@example.com', body: 'Renewal in March.' } } });
  const onlyNotes = [toxicHistory[0]!, toxicHistory[3]!, toxicHistory[4]!];
  const answer = await client.chat.completions.create({ model: 'gpt-4o-mini', tools, messages: onlyNotes }, { headers: { 'x-altrace-run': 'run-clean' } });
  t.is(answer.choices[0]!.message.tool_calls?.[0]?.type === 'function' ? answer.choices[0]!.message.tool_calls[0].function.name : null, 'send_email');
  h.sim.next({ toolCall: { name: 'read_customer_notes', arguments: { customer: 'acme' } } });
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, tools, messages: toxicHistory }, { headers: { 'x-altrace-run': 'run-read' } });
  const names: string[] = [];
  for await (const chunk of stream) for (const c of chunk.choices[0]?.delta?.tool_calls ?? []) if (c.function?.name) names.push(c.function.name);
  t.deepEqual(names, ['read_customer_notes'], 'a call that sends nothing out passes in the toxic run');
});

test.serial('the run remembers: the untrusted page in one request, the notes and the sink in a later one of the same run', async (t) => {
  h.sim.next({ text: 'Noted.' });
  await client.chat.completions.create({ model: 'gpt-4o-mini', tools, messages: toxicHistory.slice(0, 3) }, { headers: { 'x-altrace-run': 'run-split' } });
  h.sim.next({ toolCall: { name: 'send_email', arguments: { to: 'dana@example.com', body: 'x' } } });
  const later: Message[] = [{ role: 'user', content: 'Now the notes.' }, toxicHistory[3]!, toxicHistory[4]!];
  t.is(await refusedReason(() => client.chat.completions.create({ model: 'gpt-4o-mini', tools, messages: later }, { headers: { 'x-altrace-run': 'run-split' } })), 'ALT_TOOL_TOXIC_FLOW');
  // Another run with the same later request is not affected.
  h.sim.next({ toolCall: { name: 'send_email', arguments: { to: 'dana@example.com', body: 'x' } } });
  const other = await client.chat.completions.create({ model: 'gpt-4o-mini', tools, messages: later }, { headers: { 'x-altrace-run': 'run-other' } });
  t.is(other.choices[0]!.finish_reason, 'tool_calls');
});
