import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { ADMIN_TOKEN, eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';
import { runCli } from '../helpers/process.js';
import { conforms } from '../helpers/proto.js';

// Human approval gates end to end: the agent's SDK call waits while an operator decides.
let h: Harness;
let key: string;
const dir = mkdtempSync(join(tmpdir(), 'altrace-approvals-'));

test.before(async () => {
  mkdirSync(join(dir, 'contracts'));
  writeFileSync(
    join(dir, 'contracts', 'payments.yaml'),
    stringifyYaml({
      contract: 'payments',
      version: 2,
      applies_to: { agents: ['payer'] },
      tools: { issue_refund: 'write', lookup_order: 'read' },
      approvals: [
        { id: 'big-refund', tool: 'issue_refund', when: { amount: { over: 100 } }, timeout_s: 30 },
        { id: 'reasoning', model: 'o3*', timeout_s: 1 },
      ],
    }),
  );
  const policy = shippedPolicy();
  policy.contracts = { dir: 'contracts' };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'payer', team: 'finance' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const client = () => new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
const TOOLS = [{ type: 'function' as const, function: { name: 'issue_refund', parameters: { type: 'object', properties: { amount: { type: 'number' } } } } }];

/** The first pending approval, once the gate has asked (polls the control API). */
async function pendingApproval(): Promise<any> {
  let first: unknown;
  await eventually(
    async () => {
      first = ((await (await h.control('GET', '/approvals')).json()) as { approvals: any[] }).approvals[0];
      return first !== undefined;
    },
    5000,
    'an approval the gate asked for',
  );
  return first;
}

test.serial('a gated tool call waits for the operator; approved from the CLI, the agent receives it whole', async (t) => {
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'A-1', amount: 250 } } });
  let settled = false;
  const request = client()
    .chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'refund 250' }] })
    .withResponse()
    .finally(() => (settled = true));
  const pending = await pendingApproval();
  t.truthy(pending, 'the approval is listed while the request waits');
  t.false(settled, 'the agent is still waiting');
  t.is(pending.kind, 'tool');
  t.is(pending.subject, 'issue_refund');
  t.is(pending.contract, 'payments@2');
  t.is(pending.rule, 'big-refund');
  t.deepEqual(JSON.parse(pending.arguments), { order_id: 'A-1', amount: 250 }, 'the operator sees what it approves');
  await conforms(t, 'Approval', await h.control('GET', `/approvals/${pending.id}`));

  const cli = await runCli(['approvals', 'approve', pending.id, '--reason', 'checked with the customer', '--url', h.controlUrl, '--token', ADMIN_TOKEN]);
  t.is(cli.code, 0, cli.stderr);
  t.regex(cli.stdout, /approved by admin: checked with the customer/);
  const { data, response } = await request;
  t.is(data.choices[0]!.message.tool_calls![0]!.type, 'function');
  t.regex(response.headers.get('x-altrace-warning') ?? '', /ALT_APPROVAL_GRANTED/);

  const again = await h.control('POST', `/approvals/${pending.id}/deny`, {});
  t.is(again.status, 409, 'a decided approval cannot be decided again');
  const stored = (await (await h.control('GET', `/approvals/${pending.id}`)).json()) as any;
  t.is(stored.status, 'approved');
  t.is(stored.decided_by, 'admin');
  t.is(stored.arguments, null, 'arguments are kept only while the call waits');
});

test.serial('streamed: a denied call is cut where it began, with the operator’s reason; a call under the threshold is not gated', async (t) => {
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'B-2', amount: 900 } }, fragmentDelayMs: 2 });
  const stream = await client().chat.completions.create({ model: 'gpt-4o-mini', stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'refund 900' }] });
  const pieces: unknown[] = [];
  const consumed = (async () => {
    for await (const chunk of stream) if (chunk.choices[0]?.delta?.tool_calls) pieces.push(chunk);
  })();
  const pending = await pendingApproval();
  const denied = await h.control('POST', `/approvals/${pending.id}/deny`, { reason: 'over the monthly cap' });
  t.is(denied.status, 200);
  const err = await t.throwsAsync(consumed);
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_APPROVAL_DENIED');
  t.regex(String((err as Error).message), /over the monthly cap/);
  t.deepEqual(pieces, []);

  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'C-3', amount: 40 } } });
  const small = await client().chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'refund 40' }] });
  t.is(small.choices[0]!.message.tool_calls!.length, 1);
});

test.serial('a request gate times out: the provider is never called and the agent gets 408 ALT_APPROVAL_TIMEOUT', async (t) => {
  const before = h.sim.count();
  const err = await t.throwsAsync(client().chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'think hard' }] }));
  t.is((err as InstanceType<typeof OpenAI.APIError>).status, 408);
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_APPROVAL_TIMEOUT');
  t.is(h.sim.count(), before);
  const expired = ((await (await h.control('GET', '/approvals?status=expired')).json()) as { approvals: any[] }).approvals;
  t.true(expired.some((a) => a.kind === 'model' && a.subject === 'o3-mini' && a.rule === 'reasoning'));
});

test.serial('team scope: another team’s token neither sees nor decides an approval', async (t) => {
  h.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: 'D-4', amount: 300 } } });
  const request = client().chat.completions.create({ model: 'gpt-4o-mini', tools: TOOLS, messages: [{ role: 'user', content: 'refund 300' }] });
  const pending = await pendingApproval();
  const other = (await (await h.control('POST', '/tokens', { name: 'ops-sales', team: 'sales' })).json()) as { token: string };
  const list = ((await (await h.controlAs(other.token, 'GET', '/approvals')).json()) as { approvals: unknown[] }).approvals;
  t.deepEqual(list, []);
  t.is((await h.controlAs(other.token, 'POST', `/approvals/${pending.id}/approve`, {})).status, 404);
  const finance = (await (await h.control('POST', '/tokens', { name: 'ops-finance', team: 'finance' })).json()) as { token: string };
  t.is((await h.controlAs(finance.token, 'POST', `/approvals/${pending.id}/approve`, {})).status, 200);
  await t.notThrowsAsync(request);
});
