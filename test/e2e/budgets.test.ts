import test from 'ava';
import Anthropic from '@anthropic-ai/sdk';
import { BedrockRuntimeClient, ConverseCommand } from '@aws-sdk/client-bedrock-runtime';
import OpenAI from 'openai';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;

// gpt-4o-mini in policies/prices.yaml: USD per million tokens.
const IN = 0.15;
const OUT = 0.6;

// Budget windows are UTC days, weeks and months: at a fixed noon, no test straddles a midnight.
test.before(async () => {
  h = await startHarness({}, { clock: new TestClock(WEEKDAY_NOON).now });
});
test.after.always(async () => h?.close());

const client = (key: string, headers: Record<string, string> = {}) => new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: headers });

async function put(scope: string, target: string, limits: Record<string, number | null>): Promise<Response> {
  return h.control('PUT', `/budgets/${scope}/${target}`, limits);
}

async function spend(by: string, window = 'daily'): Promise<{ total_usd: number; rows: Record<string, any>[] }> {
  return (await (await h.control('GET', `/spend?by=${by}&window=${window}`)).json()) as any;
}

test.serial('over budget: refused with 429 ALT_BUDGET_EXCEEDED before the provider is called', async (t) => {
  const { key } = await h.createKey({ agent: 'thrifty', team: 'finance' });
  t.is((await put('team', 'finance', { daily: 0.000001 })).status, 200);
  const before = h.sim.received.length;
  const err = await t.throwsAsync(client(key).chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] }));
  t.true(err instanceof OpenAI.RateLimitError);
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_BUDGET_EXCEEDED');
  const body = (err as InstanceType<typeof OpenAI.APIError>).error as { altrace: { hint: string; stage: string } };
  t.is(body.altrace.stage, 'budget');
  t.regex(body.altrace.hint, /daily budget of team finance .* left/);
  t.is(h.sim.received.length, before, 'the provider never saw the request');
  t.is((await put('team', 'finance', { daily: null })).status, 200, 'removing the budget');
  await client(key).chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] });
  t.is(h.sim.received.length, before + 1);
});

test.serial('100 concurrent requests against the last of a budget overspend it by at most the reserved worst case', async (t) => {
  const { key } = await h.createKey({ agent: 'swarm', team: 'load' });
  const messages = [{ role: 'user' as const, content: 'hi' }];
  const bodyBytes = Buffer.byteLength(JSON.stringify({ model: 'gpt-4o-mini', max_tokens: 100, messages }));
  const worst = ((bodyBytes + 3) * IN + 100 * OUT) / 1e6;
  const limit = worst * 10.5; // room for ten worst cases, not eleven
  t.is((await put('agent', 'swarm', { daily: limit })).status, 200);
  h.sim.defaultScript = { latencyMs: 1000 }; // the hundred overlap in flight
  const before = h.sim.received.length;
  const results = await Promise.all(
    Array.from({ length: 100 }, () =>
      client(key)
        .chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 100, messages })
        .then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        ),
    ),
  );
  h.sim.defaultScript = {};
  const admitted = results.filter((r) => r === 'ok').length;
  // Ten worst cases fit at once; a request admitted later found capacity that settlement
  // freed (actual costs are far below the worst case). Whatever the timing, the bound holds.
  t.true(admitted >= 10, `${admitted} admitted`);
  t.is(results.filter((r) => r === 'ALT_BUDGET_EXCEEDED').length, 100 - admitted, 'every other request was refused for the budget');
  t.true(admitted < 100, 'the budget did refuse some');
  t.is(h.sim.received.length - before, admitted, 'refused requests never reached the provider');
  // Every answer is in; on several loops the last settlements may still be crossing to the decider.
  const reservedNow = async () => ((await (await h.control('GET', '/budgets')).json()) as { budgets: { target: string; windows: { daily: { reserved: number } } }[] }).budgets.find((b) => b.target === 'swarm')!.windows.daily.reserved;
  await eventually(async () => (await reservedNow()) === 0, 2000, 'every reservation settled');
  const spent = (await spend('agent')).rows.find((r) => r.agent === 'swarm')!;
  t.true(spent.usd <= limit + worst, `settled ${spent.usd} against a limit of ${limit}`);
  t.true(spent.usd > 0);
  const budgets = (await (await h.control('GET', '/budgets')).json()) as { budgets: { target: string; windows: { daily: { reserved: number; spent: number } } }[] };
  const daily = budgets.budgets.find((b) => b.target === 'swarm')!.windows.daily;
  t.is(daily.reserved, 0, 'every reservation was released at settlement');
  t.true(Math.abs(daily.spent - spent.usd) < 1e-9);
});

test.serial('a stream settles from the usage OpenAI reports when asked; the agent does not see the extra event', async (t) => {
  const { key } = await h.createKey({ agent: 'streamer', team: 'usage', cost_center: 'cc-42' });
  h.sim.next({ fragments: ['a ', 'b ', 'c'], usage: { input: 1000, output: 300 } });
  const stream = await client(key, { 'x-altrace-function': 'summarize_ticket' }).chat.completions.create({
    model: 'gpt-4o-mini',
    stream: true,
    messages: [{ role: 'user', content: 'go' }],
  });
  const chunks: unknown[] = [];
  for await (const c of stream) chunks.push(c);
  t.true(chunks.every((c) => (c as { choices: unknown[] }).choices.length > 0), 'no usage-only chunk was delivered');
  t.like(h.sim.last()!.body, { stream_options: { include_usage: true } });
  const expected = (1000 * IN + 300 * OUT) / 1e6;
  const byAgent = (await spend('agent')).rows.find((r) => r.agent === 'streamer')!;
  t.true(Math.abs(byAgent.usd - expected) < 1e-9, `${byAgent.usd} vs ${expected}`);
  t.is(byAgent.input_tokens, 1000);
  t.is(byAgent.output_tokens, 300);
  t.true((await spend('function')).rows.some((r) => r.function === 'summarize_ticket' && Math.abs(r.usd - expected) < 1e-9));
  t.true((await spend('cost_center')).rows.some((r) => r.cost_center === 'cc-42' && Math.abs(r.usd - expected) < 1e-9));
  t.true((await spend('team', 'monthly')).rows.some((r) => r.team === 'usage'));
});

test.serial('a stream cut short without usage is charged by counting what the provider sent', async (t) => {
  const { key } = await h.createKey({ agent: 'cut-short', team: 'usage' });
  h.sim.next({ fragments: Array.from({ length: 50 }, (_, i) => `word${i} `), fragmentDelayMs: 10, resetAfter: 5 });
  const stream = await client(key).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'go' }] });
  const got: string[] = [];
  await t.throwsAsync(async () => {
    for await (const c of stream) got.push(c.choices[0]?.delta?.content ?? '');
  });
  // Settled when the proxy has finished the exchange, which may be just after the client saw the break.
  let charged: Record<string, any> | undefined;
  await eventually(async () => (charged = (await spend('agent')).rows.find((r) => r.agent === 'cut-short')) !== undefined, 2000, 'the cut stream settled');
  charged = charged!;
  const delivered = got.join('');
  t.true(charged.output_tokens >= 5, `counted ${charged.output_tokens} output tokens for ${JSON.stringify(delivered)}`);
  t.true(charged.output_tokens <= Buffer.byteLength(delivered) + 20);
  t.true(charged.input_tokens > 0, 'the input keeps its estimate');
  t.true(charged.usd > 0);
});

test.serial('near the limit, Anthropic input is counted by the provider’s own count endpoint before refusing', async (t) => {
  const { key } = await h.createKey({ agent: 'counted', team: 'precise' });
  const client = new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 });
  // claude-3-5-haiku: $0.80 in, $4.00 out per million. A long prompt: its byte bound alone would not fit.
  const content = 'lorem ipsum dolor sit amet '.repeat(400);
  const bodyBytes = Buffer.byteLength(JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content }] }));
  const limit = ((bodyBytes / 2) * 0.8 + 10 * 4) / 1e6; // half the bytes' worth of input
  t.is((await put('agent', 'counted', { daily: limit })).status, 200);

  const before = h.sim.received.length;
  h.sim.next({ usage: { input: 2500, output: 1 } }); // the provider counts 2500 tokens: fits
  await client.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content }] });
  const paths = h.sim.received.slice(before).map((r) => r.path);
  t.deepEqual(paths, ['/v1/messages/count_tokens', '/v1/messages'], 'counted first, then sent');

  const again = h.sim.received.length;
  h.sim.next({ usage: { input: 1_000_000, output: 1 } }); // the provider counts far more: refused
  const err = await t.throwsAsync(client.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 10, messages: [{ role: 'user', content }] }));
  t.regex(String((err as Error).message), /ALT_BUDGET_EXCEEDED/);
  t.deepEqual(h.sim.received.slice(again).map((r) => r.path), ['/v1/messages/count_tokens'], 'the messages call was never made');
});

test.serial('near the limit, Bedrock input is counted by CountTokens, signed with SigV4', async (t) => {
  const { key } = await h.createKey({ agent: 'bedrock-counted', team: 'precise' });
  const client = new BedrockRuntimeClient({ region: 'us-east-1', endpoint: h.proxyUrl, token: { token: key }, authSchemePreference: ['httpBearerAuth'], maxAttempts: 1 });
  const text = 'lorem ipsum dolor sit amet '.repeat(400);
  const model = 'anthropic.claude-3-5-haiku-20241022-v1:0';
  t.is((await put('agent', 'bedrock-counted', { daily: ((Buffer.byteLength(text) / 2) * 0.8 + 10 * 4) / 1e6 })).status, 200);
  const before = h.sim.received.length;
  h.sim.next({ usage: { input: 2500, output: 1 } });
  await client.send(new ConverseCommand({ modelId: model, messages: [{ role: 'user', content: [{ text }] }], inferenceConfig: { maxTokens: 10 } }));
  const seen = h.sim.received.slice(before);
  t.deepEqual(seen.map((r) => r.path), [`/model/${encodeURIComponent(model)}/count-tokens`, `/model/${encodeURIComponent(model)}/converse`]);
  t.regex(String(seen[0]!.headers.authorization), /^AWS4-HMAC-SHA256 /);
  t.like(seen[0]!.body, { input: { converse: { messages: [{ role: 'user' }] } } });
});

test.serial('bad budget requests get a 4xx naming the field and change nothing', async (t) => {
  const before = await (await h.control('GET', '/budgets')).json();
  const cases: [string, unknown, number, string][] = [
    ['/budgets/planet/x', { daily: 1 }, 400, 'scope'],
    ['/budgets/team/ops', { daily: -1 }, 400, 'daily'],
    ['/budgets/team/ops', { daily: '5' }, 400, 'daily'],
    ['/budgets/team/ops', { yearly: 5 }, 400, 'yearly'],
    ['/budgets/team/ops', [1], 400, '(body)'],
    ['/budgets/key/key_doesnotexist', { daily: 1 }, 404, 'target'],
  ];
  for (const [path, body, status, field] of cases) {
    const res = await h.control('PUT', path, body);
    t.is(res.status, status, path + JSON.stringify(body));
    t.is(((await res.json()) as { error: { field: string } }).error.field, field);
  }
  t.is((await h.control('GET', '/spend?by=color')).status, 400);
  t.is((await h.control('GET', '/spend?window=yearly')).status, 400);
  const token = ((await (await h.control('POST', '/tokens', { name: 'usage-ops', team: 'usage' })).json()) as { token: string }).token;
  t.is((await h.controlAs(token, 'PUT', '/budgets/team/finance', { daily: 5 })).status, 403);
  t.is((await h.controlAs(token, 'PUT', '/budgets/cost_center/cc-42', { daily: 5 })).status, 403);
  t.deepEqual(await (await h.control('GET', '/budgets')).json(), before);
  const teamView = (await (await h.controlAs(token, 'GET', '/spend?by=agent')).json()) as { rows: { agent: string }[] };
  t.true(teamView.rows.length > 0 && teamView.rows.every((r) => ['streamer', 'cut-short'].includes(r.agent)), 'a team token sees only its team’s spend');
});
