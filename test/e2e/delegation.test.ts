import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { ADMIN_TOKEN, startHarness, type Harness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';

// Delegation end to end: the operator mints a root for an orchestrator through the control
// API, the orchestrator attenuates it offline for a worker, the worker presents the chain in
// x-altrace-parent with its own virtual key.
let h: Harness;
const dir = mkdtempSync(join(tmpdir(), 'altrace-delegation-'));
const keys: Record<string, string> = {};
let workerChain = '';
let orchestratorKey = '';

async function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(['delegate', ...args]);
}

test.before(async () => {
  h = await startHarness();
  for (const agent of ['orchestrator', 'worker-1', 'intruder']) keys[agent] = (await h.createKey({ agent, team: 'ops' })).key;
  orchestratorKey = join(dir, 'orchestrator.pem');
  const orch = await cli('keygen', '--out', orchestratorKey);
  const root = await cli('root', '--agent', 'orchestrator', '--holder', orch.stdout.trim(), '--models', 'gpt-4o*', '--tools', 'lookup_order,issue_refund', '--budget', '5', '--ttl', '600', '--url', h.controlUrl, '--token', ADMIN_TOKEN);
  if (root.code !== 0) throw new Error(root.stderr);
  writeFileSync(join(dir, 'root.chain'), root.stdout.trim());
  const worker = await cli('keygen', '--out', join(dir, 'worker.pem'));
  const attenuated = await cli('attenuate', '--chain', `@${join(dir, 'root.chain')}`, '--key', orchestratorKey, '--agent', 'worker-1', '--holder', worker.stdout.trim(), '--models', 'gpt-4o-mini', '--tools', 'lookup_order', '--budget', '1', '--ttl', '300');
  if (attenuated.code !== 0) throw new Error(attenuated.stderr);
  workerChain = attenuated.stdout.trim();
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = (agent: string, chain: string) => new OpenAI({ apiKey: keys[agent], baseURL: `${h.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: { 'x-altrace-parent': chain } });
const altrace = (err: unknown) => ((err as InstanceType<typeof OpenAI.APIError>).error as { altrace: { reason: string; stage: string } }).altrace;

test.serial('the worker is held to the attenuated grant: its model and tools, not the orchestrator’s', async (t) => {
  const worker = client('worker-1', workerChain);
  await t.notThrowsAsync(worker.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  const model = await t.throwsAsync(worker.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altrace(model).reason, 'ALT_CONTRACT_MODEL_DENIED');
  t.regex((model as Error).message, /delegation:/);
  const tool = await t.throwsAsync(
    worker.chat.completions.create({ model: 'gpt-4o-mini', tools: [{ type: 'function', function: { name: 'issue_refund', parameters: {} } }], messages: [{ role: 'user', content: 'refund' }] }),
  );
  t.is(altrace(tool).reason, 'ALT_TOOL_NOT_ALLOWED');
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A' } } });
  const called = await t.throwsAsync(worker.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'refund' }] }));
  t.is(altrace(called).stage, 'contract-tool-calls', 'a tool call outside the grant is cut from the response too');
});

test.serial('a chain is refused when another agent presents it, when a link widens, or when it is tampered with', async (t) => {
  const stolen = await t.throwsAsync(client('intruder', workerChain).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altrace(stolen).reason, 'ALT_DELEGATION_INVALID');
  t.regex((stolen as Error).message, /delegated to agent worker-1, not intruder/);

  const widerKey = await cli('keygen', '--out', join(dir, 'wider.pem'));
  const wider = await cli('attenuate', '--chain', `@${join(dir, 'root.chain')}`, '--key', orchestratorKey, '--agent', 'worker-1', '--holder', widerKey.stdout.trim(), '--models', 'o3-pro');
  t.is(wider.code, 0, 'minting does not check; verifying does');
  const refused = await t.throwsAsync(client('worker-1', wider.stdout.trim()).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altrace(refused).reason, 'ALT_DELEGATION_INVALID');
  t.regex((refused as Error).message, /link 1 widens models/);
  const offline = await cli('verify', '--chain', wider.stdout.trim(), '--url', h.controlUrl, '--token', ADMIN_TOKEN, '--json');
  t.is(offline.code, 1);
  t.is(JSON.parse(offline.stdout).link, 1);

  const tampered = workerChain.slice(0, -5) + (workerChain.endsWith('AAAAA') ? 'BBBBB' : 'AAAAA');
  const forged = await t.throwsAsync(client('worker-1', tampered).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.is(altrace(forged).reason, 'ALT_DELEGATION_INVALID');
});

test.serial('a public key that starts with "-" is read as the value it is, not as an option (one key in 64 does)', async (t) => {
  const dashed = `-${'A'.repeat(42)}`;
  const r = await cli('verify', '--chain', workerChain, '--root-key', dashed, '--json');
  t.is(r.code, 1, r.stderr);
  t.regex(JSON.parse(r.stdout).message, /not signed by a trusted root/);
});

test.serial('verify offline with the root public key alone; the budget of a link bounds the worker', async (t) => {
  const rootKey = ((await (await h.control('GET', '/delegations/root-key')).json()) as { root_key: string }).root_key;
  const ok = await cli('verify', '--chain', workerChain, '--root-key', rootKey, '--json');
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  const v = JSON.parse(ok.stdout);
  t.is(v.agent, 'worker-1');
  t.deepEqual(v.grant, { budget_usd: 1, models: ['gpt-4o-mini'], tools: ['lookup_order'] });

  const poorKey = await cli('keygen', '--out', join(dir, 'poor.pem'));
  const poor = await cli('attenuate', '--chain', `@${join(dir, 'root.chain')}`, '--key', orchestratorKey, '--agent', 'worker-1', '--holder', poorKey.stdout.trim(), '--budget', '0.00001');
  const over = await t.throwsAsync(client('worker-1', poor.stdout.trim()).chat.completions.create({ model: 'gpt-4o-mini', max_tokens: 1000, messages: [{ role: 'user', content: 'hi' }] }));
  t.is((over as InstanceType<typeof OpenAI.APIError>).status, 429);
  t.is(altrace(over).reason, 'ALT_DELEGATION_BUDGET_EXCEEDED');
  const mint = await h.control('POST', '/delegations', { aud: 'orchestrator', sub: 'not-a-key' });
  t.is(mint.status, 400);
  t.is(((await mint.json()) as { error: { field: string } }).error.field, 'sub');
});
