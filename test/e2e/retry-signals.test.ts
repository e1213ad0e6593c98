import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import Anthropic from '@anthropic-ai/sdk';
import { AccessDeniedException, BedrockRuntimeClient, ConverseCommand, ServiceQuotaExceededException } from '@aws-sdk/client-bedrock-runtime';
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI, { AzureOpenAI } from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';
import { shippedPolicy } from '../helpers/policy.js';

// Every SDK here keeps its DEFAULT retry settings: what is tested is whether a refusal makes it
// send the request again. The proxy's audit log counts what arrived, whatever the SDK did.

let h: Harness;
/** An agent with no provider credential at all: every request ends at the credential lane. */
let bare: Harness;
const dir = mkdtempSync(join(tmpdir(), 'altrace-retry-'));
const PACE = { requests: 1, per_s: 2 };

/** The agent's clock: a weekday noon, so a daily budget window resets in twelve hours — far past the 60 s an SDK waits. */
const clock = new TestClock(WEEKDAY_NOON);

/** Seconds from the agent's now until the next UTC midnight, when a daily budget window resets. */
function untilMidnightUtc(): number {
  const now = new Date(clock.now());
  return (Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime()) / 1000;
}

test.before(async () => {
  mkdirSync(join(dir, 'contracts'));
  writeFileSync(join(dir, 'contracts/paced.yaml'), stringifyYaml({ contract: 'paced', version: 1, applies_to: { agents: ['paced-openai', 'paced-bedrock'] }, rate: PACE }));
  const policy = shippedPolicy();
  policy.contracts = { dir: 'contracts', require: false };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') }, { clock: clock.now });
  bare = await startHarness({ OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '', GEMINI_API_KEY: '', AZURE_OPENAI_API_KEY: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' });
});
test.after.always(async () => {
  await h?.close();
  await bare?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The decisions the proxy recorded for an agent, oldest first: one per request that reached it. */
async function arrived(harness: Harness, agent: string): Promise<{ reason: string; outcome: string }[]> {
  const res = await harness.control('GET', `/audit?kind=decision&agent=${agent}&limit=1000`);
  const { records } = (await res.json()) as { records: { decision: { reason: string; outcome: string } }[] };
  return records.map(({ decision: { reason, outcome } }) => ({ reason, outcome })).reverse();
}

/** A daily budget no request fits in. */
async function brokeAgent(agent: string): Promise<string> {
  const { key } = await h.createKey({ agent, team: 'retry' });
  const res = await h.control('PUT', `/budgets/agent/${agent}`, { daily: 0.000001 });
  if (res.status !== 200) throw new Error(`budget: ${res.status}`);
  return key;
}

interface Seen {
  status: number;
  headers: Headers;
  sentAt: number;
  answeredAt: number;
}

/** The SDK's own fetch, keeping every response it got: what the SDK saw, attempt by attempt. */
function watchingFetch(seen: Seen[]): typeof fetch {
  return async (input, init) => {
    const sentAt = Date.now();
    const res = await fetch(input, init);
    seen.push({ status: res.status, headers: res.headers, sentAt, answeredAt: Date.now() });
    return res;
  };
}

function assertBudgetHeaders(t: ExecutionContext, headers: Headers): void {
  t.is(headers.get('x-altrace-reason'), 'ALT_BUDGET_EXCEEDED');
  t.is(headers.get('x-should-retry'), 'false');
  const retryAfter = Number(headers.get('retry-after'));
  t.true(Math.abs(retryAfter - untilMidnightUtc()) < 5, `retry-after ${retryAfter} s names the window's reset`);
  t.true(Math.abs(Number(headers.get('retry-after-ms')) / 1000 - retryAfter) <= 1);
}

const MESSAGES = [{ role: 'user' as const, content: 'hi' }];
const BEDROCK_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
const bedrockClient = (harness: Harness, token: string) =>
  new BedrockRuntimeClient({ region: 'us-east-1', endpoint: harness.proxyUrl, token: { token }, authSchemePreference: ['httpBearerAuth'] });
const converse = (harness: Harness, token: string) =>
  bedrockClient(harness, token).send(new ConverseCommand({ modelId: BEDROCK_MODEL, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));

test('budget exceeded, OpenAI SDK: one refusal, one request; x-should-retry: false and retry-after at the window reset', async (t) => {
  const key = await brokeAgent('budget-openai');
  const err = await t.throwsAsync(new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1` }).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
  t.true(err instanceof OpenAI.RateLimitError);
  assertBudgetHeaders(t, (err as InstanceType<typeof OpenAI.APIError>).headers!);
  t.deepEqual(await arrived(h, 'budget-openai'), [{ reason: 'ALT_BUDGET_EXCEEDED', outcome: 'block' }]);
});

test('budget exceeded, Anthropic SDK: one refusal, one request', async (t) => {
  const key = await brokeAgent('budget-anthropic');
  const err = await t.throwsAsync(new Anthropic({ apiKey: key, baseURL: h.proxyUrl }).messages.create({ model: 'claude-3-5-haiku-20241022', max_tokens: 50, messages: MESSAGES }));
  t.true(err instanceof Anthropic.RateLimitError);
  assertBudgetHeaders(t, (err as InstanceType<typeof Anthropic.APIError>).headers!);
  t.deepEqual(await arrived(h, 'budget-anthropic'), [{ reason: 'ALT_BUDGET_EXCEEDED', outcome: 'block' }]);
});

test('budget exceeded, Azure OpenAI client: one refusal, one request', async (t) => {
  const key = await brokeAgent('budget-azure');
  const azure = new AzureOpenAI({ apiKey: key, endpoint: h.proxyUrl, apiVersion: '2024-10-21', deployment: 'gpt-4o-mini' });
  const err = await t.throwsAsync(azure.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
  t.true(err instanceof OpenAI.RateLimitError);
  assertBudgetHeaders(t, (err as InstanceType<typeof OpenAI.APIError>).headers!);
  t.deepEqual(await arrived(h, 'budget-azure'), [{ reason: 'ALT_BUDGET_EXCEEDED', outcome: 'block' }]);
});

test('budget exceeded, Gemini SDK: one refusal, one request; the body says when in RetryInfo', async (t) => {
  const key = await brokeAgent('budget-gemini');
  const seen: Seen[] = [];
  const gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.proxyUrl, fetch: watchingFetch(seen) } });
  const err = await t.throwsAsync(gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
  t.true(err instanceof ApiError);
  t.is((err as ApiError).status, 429);
  t.is(seen.length, 1);
  assertBudgetHeaders(t, seen[0]!.headers);
  const details = JSON.parse((err as ApiError).message).error.details as { '@type': string; retryDelay?: string }[];
  const delay = details.find((d) => d['@type'] === 'type.googleapis.com/google.rpc.RetryInfo')?.retryDelay;
  t.regex(delay ?? '', /^\d+s$/);
  t.true(Math.abs(parseInt(delay!, 10) - untilMidnightUtc()) < 5);
  t.deepEqual(await arrived(h, 'budget-gemini'), [{ reason: 'ALT_BUDGET_EXCEEDED', outcome: 'block' }]);
});

test('budget exceeded, Bedrock SDK: a ServiceQuotaExceededException (400) the AWS SDK does not retry; one request', async (t) => {
  const key = await brokeAgent('budget-bedrock');
  const err = await t.throwsAsync(converse(h, key));
  t.true(err instanceof ServiceQuotaExceededException, (err as Error).name);
  t.is((err as ServiceQuotaExceededException).$metadata.httpStatusCode, 400);
  t.is((err as ServiceQuotaExceededException).$metadata.attempts, 1);
  t.deepEqual(await arrived(h, 'budget-bedrock'), [{ reason: 'ALT_BUDGET_EXCEEDED', outcome: 'block' }]);
});

/** The credential lane refuses for want of a credential: one request, x-should-retry: false. */
async function credentialMissing(t: ExecutionContext, agent: string, call: (key: string) => Promise<unknown>): Promise<unknown> {
  const { key } = await bare.createKey({ agent, team: 'retry' });
  const err = await t.throwsAsync(call(key));
  t.deepEqual(await arrived(bare, agent), [{ reason: 'ALT_CREDENTIAL_MISSING', outcome: 'block' }]);
  return err;
}

test('credential missing, OpenAI SDK: 503 with x-should-retry: false; one request', async (t) => {
  const err = await credentialMissing(t, 'bare-openai', (key) => new OpenAI({ apiKey: key, baseURL: `${bare.proxyUrl}/v1` }).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
  t.is((err as InstanceType<typeof OpenAI.APIError>).status, 503);
  t.is((err as InstanceType<typeof OpenAI.APIError>).headers!.get('x-should-retry'), 'false');
  t.is((err as InstanceType<typeof OpenAI.APIError>).headers!.get('retry-after'), null);
});

test('credential missing, Anthropic SDK: one request', async (t) => {
  const err = await credentialMissing(t, 'bare-anthropic', (key) => new Anthropic({ apiKey: key, baseURL: bare.proxyUrl }).messages.create({ model: 'claude-3-5-haiku-20241022', max_tokens: 50, messages: MESSAGES }));
  t.is((err as InstanceType<typeof Anthropic.APIError>).status, 503);
  t.is((err as InstanceType<typeof Anthropic.APIError>).headers!.get('x-should-retry'), 'false');
});

test('credential missing, Azure OpenAI client: one request', async (t) => {
  const azure = (key: string) => new AzureOpenAI({ apiKey: key, endpoint: bare.proxyUrl, apiVersion: '2024-10-21', deployment: 'gpt-4o-mini' });
  const err = await credentialMissing(t, 'bare-azure', (key) => azure(key).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }));
  t.is((err as InstanceType<typeof OpenAI.APIError>).status, 503);
  t.is((err as InstanceType<typeof OpenAI.APIError>).headers!.get('x-should-retry'), 'false');
});

test('credential missing, Gemini SDK: one request', async (t) => {
  const seen: Seen[] = [];
  const gemini = (key: string) => new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: bare.proxyUrl, fetch: watchingFetch(seen) } });
  const err = await credentialMissing(t, 'bare-gemini', (key) => gemini(key).models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' }));
  t.is((err as ApiError).status, 503);
  t.is(seen[0]!.headers.get('x-should-retry'), 'false');
});

test('credential missing, Bedrock SDK: an AccessDeniedException (403) the AWS SDK does not retry; one request', async (t) => {
  const err = await credentialMissing(t, 'bare-bedrock', (key) => converse(bare, key));
  t.true(err instanceof AccessDeniedException, (err as Error).name);
  t.is((err as AccessDeniedException).$metadata.httpStatusCode, 403);
  t.is((err as AccessDeniedException).$metadata.attempts, 1);
});

/** Spends the agent's one request of the pace, so that the next waits for the bucket. */
async function spendPace(agent: string): Promise<string> {
  const { key } = await h.createKey({ agent, team: 'retry' });
  await new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
  return key;
}

test('contract rate limit, OpenAI SDK: a 429 with retry-after; the SDK waits it out and its one retry is allowed', async (t) => {
  const key = await spendPace('paced-openai');
  const seen: Seen[] = [];
  const r = await new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, fetch: watchingFetch(seen) }).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });
  t.is(r.choices[0]!.message.content, 'Hello from the simulated provider. All systems nominal.');
  t.deepEqual(seen.map((s) => s.status), [429, 200]);
  const refused = seen[0]!.headers;
  t.is(refused.get('x-altrace-reason'), 'ALT_CONTRACT_RATE_LIMITED');
  t.is(refused.get('x-should-retry'), 'true');
  const waitMs = Number(refused.get('retry-after-ms'));
  t.true(waitMs > 0 && waitMs <= PACE.per_s * 1000, `retry-after-ms ${waitMs}`);
  t.is(Number(refused.get('retry-after')), Math.ceil(waitMs / 1000));
  t.true(seen[1]!.sentAt - seen[0]!.answeredAt >= waitMs - 2, 'the SDK waited as long as it was told');
  t.deepEqual((await arrived(h, 'paced-openai')).map((d) => d.reason), ['ALT_ALLOWED', 'ALT_CONTRACT_RATE_LIMITED', 'ALT_ALLOWED']);
});

test('contract rate limit, Bedrock SDK: a ThrottlingException with retry-after within what the AWS SDK waits; its retry is allowed', async (t) => {
  const key = await spendPace('paced-bedrock');
  const r = await converse(h, key);
  t.is(r.output?.message?.content?.[0]?.text, 'Hello from the simulated provider. All systems nominal.');
  t.is(r.$metadata.attempts, 2);
  // The SDK turns retry-after (1 s) into a moment (now + 1000 ms) and waits from a later now: 999 ms is waiting it out.
  t.true((r.$metadata.totalRetryDelay ?? 0) >= 950, `waited ${r.$metadata.totalRetryDelay} ms`);
  t.deepEqual((await arrived(h, 'paced-bedrock')).map((d) => d.reason), ['ALT_ALLOWED', 'ALT_CONTRACT_RATE_LIMITED', 'ALT_ALLOWED']);
});
