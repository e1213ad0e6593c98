import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { stringify as stringifyYaml } from 'yaml';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

// Behavioral contracts end to end, with the providers' own SDKs as the agents.
let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'altrace-contracts-'));
const contractsDir = join(dir, 'contracts');
const keys: Record<string, string> = {};

const REFUNDS = {
  contract: 'refund-desk',
  version: 3,
  applies_to: { agents: ['refund-bot'] },
  models: ['gpt-4o*', 'claude-*', 'gemini-*'],
  tools: { lookup_order: 'read', issue_refund: 'write', send_email: 'write' },
  levels: ['read', 'write'],
  evidence: [{ id: 'refund-after-lookup', tool: 'issue_refund', requires: 'lookup_order', match: { order_id: 'order_id' } }],
};

function writeContract(name: string, doc: unknown): void {
  writeFileSync(join(contractsDir, `${name}.yaml`), stringifyYaml(doc));
}

test.before(async () => {
  mkdirSync(contractsDir);
  writeContract('refund-desk', REFUNDS);
  writeContract('analysts', { contract: 'analysts', version: 1, applies_to: { teams: ['analysts'] }, levels: ['read'] });
  writeContract('limited', { contract: 'limited', version: 1, applies_to: { agents: ['limited-bot'] }, rate: { requests: 2, per_s: 60 } });
  // The agent runs at a weekday noon (UTC): the night shift's window is not now.
  writeContract('night-shift', { contract: 'night-shift', version: 1, applies_to: { agents: ['night-bot'] }, hours: { from: '02:00', to: '03:00', tz: 'UTC' } });
  writeContract('eu-only', { contract: 'eu-only', version: 1, applies_to: { agents: ['eu-bot'] }, regions: ['eu-*'] });
  writeContract('public-only', { contract: 'public-only', version: 1, applies_to: { agents: ['public-bot', 'confidential-bot'] }, data_ceiling: 'confidential' });
  writeContract('public-strict', { contract: 'public-strict', version: 1, applies_to: { agents: ['public-bot'] }, data_ceiling: 'public' });
  const policy = shippedPolicy();
  policy.contracts = { dir: 'contracts', require: true };
  // Emails reach the provider unredacted here, so that the ceiling is what decides.
  policy.content.rules = [{ label: 'pii.email', action: 'allow' }, ...policy.content.rules];
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml'), ALTRACE_BEDROCK_REGION: 'eu-west-1' }, { clock: new TestClock(WEEKDAY_NOON).now });
  const agents = [['refund-bot', 'support'], ['reporter', 'analysts'], ['limited-bot', 'x'], ['night-bot', 'x'], ['stray-bot', 'nobody'], ['eu-bot', 'x'], ['public-bot', 'x'], ['confidential-bot', 'x']] as const;
  for (const [agent, team] of agents) {
    keys[agent] = (await h.createKey({ agent, team })).key;
  }
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const openai = (agent: string, run?: string) =>
  new OpenAI({ apiKey: keys[agent], baseURL: `${h.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: run ? { 'x-altrace-run': run } : {} });

const TOOLS = [
  { type: 'function' as const, function: { name: 'lookup_order', parameters: { type: 'object', properties: { order_id: { type: 'string' } } } } },
  { type: 'function' as const, function: { name: 'issue_refund', parameters: { type: 'object', properties: { order_id: { type: 'string' }, amount: { type: 'number' } } } } },
];

/** The conversation after the agent looked the order up: the lookup call and its result. */
function afterLookup(orderId: string): OpenAI.Chat.ChatCompletionMessageParam[] {
  return [
    { role: 'user', content: `Refund order ${orderId}.` },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_lookup', type: 'function', function: { name: 'lookup_order', arguments: JSON.stringify({ order_id: orderId }) } }] },
    { role: 'tool', tool_call_id: 'call_lookup', content: '{"status":"delivered","total":20}' },
  ];
}

function altraceOf(err: unknown): { reason: string; stage: string; hint: string } {
  return ((err as InstanceType<typeof OpenAI.APIError>).error as { altrace: { reason: string; stage: string; hint: string } }).altrace;
}

test.serial('the refund scenario: refund without lookup is refused with a hint, the agent looks up, the retry is allowed', async (t) => {
  const client = openai('refund-bot', 'run-refund-1');
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A-42', amount: 20 } } });
  const err = await t.throwsAsync(client.chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'Refund order A-42.' }] }));
  t.is((err as InstanceType<typeof OpenAI.APIError>).status, 403);
  const info = altraceOf(err);
  t.is(info.reason, 'ALT_EVIDENCE_REQUIRED');
  t.is(info.stage, 'contract-tool-calls');
  t.regex(info.hint, /lookup_order/);
  t.regex(info.hint, /order_id/);

  // A lookup of another order is not evidence for this one.
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A-42', amount: 20 } } });
  const other = await t.throwsAsync(client.chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: afterLookup('B-7') }));
  t.is(altraceOf(other).reason, 'ALT_EVIDENCE_REQUIRED');

  // The agent performs the lookup for A-42; the same refund is now delivered.
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A-42', amount: 20 } } });
  const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: afterLookup('A-42') });
  const call = ok.choices[0]!.message.tool_calls![0]! as { function: { name: string; arguments: string } };
  t.is(call.function.name, 'issue_refund');
  t.deepEqual(JSON.parse(call.function.arguments), { order_id: 'A-42', amount: 20 });

  // The run remembers: a later turn of the same run need not repeat the lookup ...
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A-42', amount: 5 } } });
  await t.notThrowsAsync(client.chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'And 5 more on A-42.' }] }));
  // ... but another run has no evidence.
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A-42', amount: 5 } } });
  const elsewhere = await t.throwsAsync(openai('refund-bot', 'run-refund-2').chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'Refund A-42.' }] }));
  t.is(altraceOf(elsewhere).reason, 'ALT_EVIDENCE_REQUIRED');
});

test.serial('streamed: a refund without evidence never reaches the agent, not even in part', async (t) => {
  const client = openai('refund-bot', 'run-stream-1');
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'C-9', amount: 120, reason: 'damaged in transit, customer asked twice' } }, fragmentDelayMs: 5 });
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'Refund C-9.' }] });
  const toolPieces: unknown[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.tool_calls) toolPieces.push(chunk.choices[0].delta.tool_calls);
  });
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_EVIDENCE_REQUIRED');
  t.deepEqual(toolPieces, [], 'no piece of the held call was delivered');

  // With the lookup in the history, the held call is released whole.
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'C-9', amount: 120 } }, fragmentDelayMs: 2 });
  const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, tools: TOOLS, messages: afterLookup('C-9') });
  let name = '';
  let args = '';
  for await (const chunk of ok) {
    for (const c of chunk.choices[0]?.delta?.tool_calls ?? []) {
      name += c.function?.name ?? '';
      args += c.function?.arguments ?? '';
    }
  }
  t.is(name, 'issue_refund');
  t.deepEqual(JSON.parse(args), { order_id: 'C-9', amount: 120 });
});

test.serial('the refund scenario in Anthropic tool_use and Gemini functionCall formats, streamed and not', async (t) => {
  const anthropic = new Anthropic({ apiKey: keys['refund-bot'], baseURL: h.proxyUrl, maxRetries: 0, defaultHeaders: { 'x-altrace-run': 'run-anthropic' } });
  const tools = [{ name: 'issue_refund', input_schema: { type: 'object' as const, properties: {} } }, { name: 'lookup_order', input_schema: { type: 'object' as const, properties: {} } }];
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'N-5' } } });
  const refused = await t.throwsAsync(anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, tools, messages: [{ role: 'user', content: 'refund N-5' }] }));
  t.is((refused as InstanceType<typeof Anthropic.APIError>).status, 403);
  t.regex((refused as Error).message, /ALT_EVIDENCE_REQUIRED/);
  const looked = [
    { role: 'user' as const, content: 'refund N-5' },
    { role: 'assistant' as const, content: [{ type: 'tool_use' as const, id: 'tu_1', name: 'lookup_order', input: { order_id: 'N-5' } }] },
    { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'tu_1', content: 'delivered' }] },
  ];
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'N-5' } }, fragmentDelayMs: 2 });
  const streamed = await anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, tools, messages: looked }).finalMessage();
  const use = streamed.content.find((b) => b.type === 'tool_use') as { name: string; input: unknown } | undefined;
  t.is(use?.name, 'issue_refund');
  t.deepEqual(use?.input, { order_id: 'N-5' });

  // A failed lookup (is_error) is no evidence.
  const failed = looked.map((m, i) => (i === 2 ? { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: 'tu_1', content: 'timeout', is_error: true }] } : m));
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'N-5' } } });
  const noEvidence = new Anthropic({ apiKey: keys['refund-bot'], baseURL: h.proxyUrl, maxRetries: 0 });
  await t.throwsAsync(noEvidence.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, tools, messages: failed }), { message: /ALT_EVIDENCE_REQUIRED/ });

  const gemini = new GoogleGenAI({ apiKey: keys['refund-bot'], httpOptions: { baseUrl: h.proxyUrl } });
  const declare = { tools: [{ functionDeclarations: [{ name: 'issue_refund' }, { name: 'lookup_order' }] }] };
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'G-7' } } });
  await t.throwsAsync(gemini.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'refund G-7', config: declare }).then(async (s) => { for await (const _ of s); }), { message: /ALT_EVIDENCE_REQUIRED/ });
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'G-7' } } });
  const allowed = await gemini.models.generateContent({
    model: 'gemini-2.5-flash',
    config: declare,
    contents: [
      { role: 'user', parts: [{ text: 'refund G-7' }] },
      { role: 'model', parts: [{ functionCall: { name: 'lookup_order', args: { order_id: 'G-7' } } }] },
      { role: 'user', parts: [{ functionResponse: { name: 'lookup_order', response: { status: 'delivered' } } }] },
    ],
  });
  t.is(allowed.functionCalls?.[0]?.name, 'issue_refund');
});

test.serial('evidence the SDK submits counts for its own run; bad submissions are refused and change nothing', async (t) => {
  const submit = (key: string | undefined, body: unknown, method = 'POST') =>
    fetch(`${h.proxyUrl}/altrace/v1/evidence`, { method, headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), 'content-type': 'application/json' }, body: method === 'POST' ? JSON.stringify(body) : undefined });
  const lookup = { run: 'run-sdk-1', evidence: [{ tool: 'lookup_order', arguments: { order_id: 'Z-1' } }, { tool: 'unrelated', arguments: {} }] };
  t.is((await submit(undefined, lookup)).status, 401);
  t.is((await submit(keys['reporter'], lookup)).status, 200, "another agent's submission lands in its own runs only");
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'Z-1' } } });
  const before = await t.throwsAsync(openai('refund-bot', 'run-sdk-1').chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'refund Z-1' }] }));
  t.is(altraceOf(before).reason, 'ALT_EVIDENCE_REQUIRED');

  const ok = await submit(keys['refund-bot'], lookup);
  t.is(ok.status, 200);
  t.deepEqual(await ok.json(), { recorded: 1, ignored: 1 });
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'Z-1' } } });
  await t.notThrowsAsync(openai('refund-bot', 'run-sdk-1').chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'refund Z-1' }] }));

  const malformed = await fetch(`${h.proxyUrl}/altrace/v1/evidence`, { method: 'POST', headers: { authorization: `Bearer ${keys['refund-bot']}` }, body: '{"run":' });
  t.is(malformed.status, 400);
  t.is(((await malformed.json()) as { error: { code: string } }).error.code, 'ALT_MALFORMED_JSON');
  const noRun = await submit(keys['refund-bot'], { evidence: lookup.evidence });
  t.is(((await noRun.json()) as { error: { field: string } }).error.field, 'run');
  t.is((await submit(keys['refund-bot'], null, 'GET')).status, 405);
});

test.serial('a tool the contract does not allow: refused when declared, cut when a streamed response calls it (Anthropic)', async (t) => {
  const before = h.sim.count();
  const declared = await t.throwsAsync(
    openai('refund-bot').chat.completions.create({ model: 'gpt-4o-mini', tools: [{ type: 'function', function: { name: 'delete_account', parameters: {} } }], messages: [{ role: 'user', content: 'hi' }] }),
  );
  t.is(altraceOf(declared).reason, 'ALT_TOOL_NOT_ALLOWED');
  t.regex(altraceOf(declared).hint, /lookup_order/, 'the hint lists the allowed tools');
  t.is(h.sim.count(), before, 'refused before the provider was called');

  const anthropic = new Anthropic({ apiKey: keys['refund-bot'], baseURL: h.proxyUrl, maxRetries: 0 });
  h.sim.next({ toolCall: { name: 'delete_account', arguments: { account: 'acme' } }, fragmentDelayMs: 2 });
  const stream = anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, messages: [{ role: 'user', content: 'clean up' }] });
  const blocks: string[] = [];
  stream.on('streamEvent', (e) => {
    if (e.type === 'content_block_start') blocks.push(e.content_block.type);
  });
  const err = await t.throwsAsync(stream.finalMessage());
  t.regex(String((err as Error).message), /ALT_TOOL_NOT_ALLOWED/);
  t.deepEqual(blocks, [], 'the tool_use block never reached the agent');
});

test.serial('a read-only team: a delete tool is refused when declared and when Gemini calls it; a read tool is served', async (t) => {
  const gemini = new GoogleGenAI({ apiKey: keys.reporter, httpOptions: { baseUrl: h.proxyUrl } });
  const declare = (name: string) => ({ tools: [{ functionDeclarations: [{ name, parameters: { type: 'object' as never, properties: {} } }] }] });
  const refused = await t.throwsAsync(gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'clean', config: declare('delete_report') }));
  t.is((refused as { status?: number }).status, 403);
  t.regex((refused as Error).message, /ALT_ACTION_LEVEL_DENIED/);

  h.sim.next({ toolCall: { name: 'get_report', arguments: { id: 'q3' } } });
  const served = await gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'q3 please', config: declare('get_report') });
  t.is(served.functionCalls?.[0]?.name, 'get_report');

  h.sim.next({ toolCall: { name: 'purge_reports', arguments: {} } });
  const called = await t.throwsAsync(gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'tidy up', config: declare('get_report') }));
  t.regex((called as Error).message, /ALT_ACTION_LEVEL_DENIED/);
});

test.serial('models, hours, rate and agents without a contract', async (t) => {
  const model = await t.throwsAsync(openai('refund-bot').chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altraceOf(model).reason, 'ALT_CONTRACT_MODEL_DENIED');
  const night = await t.throwsAsync(openai('night-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altraceOf(night).reason, 'ALT_OUTSIDE_HOURS');
  t.regex(altraceOf(night).hint, /UTC/);
  const stray = await t.throwsAsync(openai('stray-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altraceOf(stray).reason, 'ALT_CONTRACT_MISSING');
  const limited = openai('limited-bot');
  for (let i = 0; i < 2; i++) await limited.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hi ${i}` }] });
  const third = await t.throwsAsync(limited.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi 3' }] }));
  t.is((third as InstanceType<typeof OpenAI.APIError>).status, 429);
  t.is(altraceOf(third).reason, 'ALT_CONTRACT_RATE_LIMITED');
});

test.serial('regions: an upstream outside the contract regions is refused, one inside is served', async (t) => {
  const us = await t.throwsAsync(openai('eu-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altraceOf(us).reason, 'ALT_CONTRACT_REGION_DENIED');
  t.regex(altraceOf(us).hint, /processes data in us/);
  const converse = await fetch(`${h.proxyUrl}/model/anthropic.claude-3-haiku/converse`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys['eu-bot']}`, 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'hi' }] }] }),
  });
  t.is(converse.status, 200, 'Bedrock in eu-west-1');
});

test.serial('data ceilings: the lowest ceiling of the contracts decides, on what leaves after redaction', async (t) => {
  const email = [{ role: 'user' as const, content: 'Write to jane.doe@example.com about it.' }];
  const strict = await t.throwsAsync(openai('public-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: email }));
  t.is(altraceOf(strict).reason, 'ALT_DATA_CEILING');
  t.regex(altraceOf(strict).hint, /public-strict@1 allows public data at most; the request carries pii\.email/);
  await t.notThrowsAsync(openai('confidential-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: email }));
  await t.notThrowsAsync(openai('public-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'nothing personal' }] }));
});

test.serial('audit records name the contract and version that decided; an invalid edit keeps the last good contracts', async (t) => {
  const audited = async () => ((await (await h.control('GET', '/audit?limit=1000')).json()) as { records: any[] }).records.filter((r) => r.decision);
  const evidenceRecord = async () => (await audited()).find((r) => r.decision.reason === 'ALT_EVIDENCE_REQUIRED');
  await eventually(async () => (await evidenceRecord()) !== undefined, 3000, 'the ALT_EVIDENCE_REQUIRED decision in the audit log');
  const evidence = await evidenceRecord();
  t.deepEqual(evidence?.decision.contracts, ['refund-desk@3']);
  t.regex(evidence?.decision.detail ?? '', /^refund-desk@3: issue_refund without lookup_order/);

  // A contract with an unknown field is refused; the version in force stays 3.
  writeContract('refund-desk', { ...REFUNDS, version: 4, approvers: ['bob'] });
  await eventually(() => h.logs.some((l) => l.includes('policy reload refused') && l.includes('approvers')), 3000, 'the refused reload in the log');
  await openai('refund-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still 3?' }] });
  // A valid edit takes effect: version 5 names itself in the next record.
  writeContract('refund-desk', { ...REFUNDS, version: 5 });
  t.true(await eventually(() => h.logs.some((l) => l.includes('policy reloaded') && l.includes('refund-desk@5')), 3000));
  await openai('refund-bot').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'now 5' }] });
  await eventually(
    async () => {
      const all = await audited();
      const mine = all.filter((r) => r.principal?.agent === 'refund-bot' && r.decision.outcome === 'allow').map((r) => r.decision.contracts?.[0]);
      // Newest first.
      return mine[0] === 'refund-desk@5' && mine.includes('refund-desk@3');
    },
    3000,
    'records naming refund-desk@5 (newest) and refund-desk@3',
  );
  t.pass();
});
