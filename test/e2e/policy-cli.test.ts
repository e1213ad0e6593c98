import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { stringify as stringifyYaml } from 'yaml';
import { BERLIN_SPRING_FORWARD, FIXED_CLOCKS, MONTH_END, SATURDAY_NIGHT, WEEKDAY_NOON } from '../helpers/clocks.js';
import { ROOT, runCli } from '../helpers/process.js';
import { generateHolderKey, mintRoot } from '../../proxy/src/index.js';
import { loadOrCreateRootKey } from '../../agent/src/services/delegation-service.js';

// `altrace policy check` and `altrace policy explain` as real processes, as scripts use them.
const dir = mkdtempSync(join(tmpdir(), 'altrace-policy-cli-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, body: unknown) => {
  const file = join(dir, name);
  writeFileSync(file, typeof body === 'string' ? body : name.endsWith('.json') ? JSON.stringify(body) : stringifyYaml(body));
  return file;
};

test('check: the shipped policy and contracts are valid; a cyclic contract is refused naming the field', async (t) => {
  for (const file of ['policies/default.yaml', 'policies/contracts/refund-desk.yaml', 'policies/contracts/analysts-read-only.yaml']) {
    const r = await runCli(['policy', 'check', join(ROOT, file), '--json']);
    t.is(r.code, 0, r.stdout + r.stderr);
    t.true(JSON.parse(r.stdout).valid);
  }
  const cyclic = write('cyclic.yaml', {
    contract: 'cyclic',
    version: 1,
    applies_to: { agents: ['x'] },
    evidence: [
      { id: 'a', tool: 'approve', requires: 'review' },
      { id: 'b', tool: 'review', requires: 'approve' },
    ],
  });
  const r = await runCli(['policy', 'check', cyclic, '--json']);
  t.is(r.code, 1);
  const out = JSON.parse(r.stdout);
  t.false(out.valid);
  t.is(out.field, 'evidence.0.requires');
  t.regex(out.message, /cycle/);
});

const refundRequest = () =>
  write('refund.json', {
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: 'Refund A-42' }],
    tools: [{ type: 'function', function: { name: 'issue_refund', parameters: { type: 'object' } } }],
  });

// The shipped analysts contract allows Mon–Fri 06:00–22:00 UTC: inside those hours its action
// levels decide, outside them its hours do — at every one of the fixed instants.
const analystsAt: Record<string, { reason: string; hint: RegExp }> = {
  [WEEKDAY_NOON.at]: { reason: 'ALT_ACTION_LEVEL_DENIED', hint: /Contract analysts-read-only@1 permits read actions only/ },
  [SATURDAY_NIGHT.at]: { reason: 'ALT_OUTSIDE_HOURS', hint: /Contract analysts-read-only@1 allows requests mon,tue,wed,thu,fri 06:00–22:00 UTC only/ },
  [MONTH_END.at]: { reason: 'ALT_OUTSIDE_HOURS', hint: /Contract analysts-read-only@1 allows requests mon,tue,wed,thu,fri 06:00–22:00 UTC only/ },
  [BERLIN_SPRING_FORWARD.at]: { reason: 'ALT_OUTSIDE_HOURS', hint: /Contract analysts-read-only@1 allows requests mon,tue,wed,thu,fri 06:00–22:00 UTC only/ },
};

for (const clock of FIXED_CLOCKS) {
  test(`explain --at ${clock.name}: the analysts contract's hours, then its action levels, decide`, async (t) => {
    const r = await runCli(['policy', 'explain', '--agent', 'sam', '--team', 'analysts', '--request', refundRequest(), '--at', clock.at]);
    t.is(r.code, 1, r.stdout + r.stderr);
    const want = analystsAt[clock.at]!;
    t.regex(r.stdout, new RegExp(`at\\s+${clock.at.replace(/[.]/g, '\\.')}`));
    t.regex(r.stdout, new RegExp(`contract\\s+BLOCK ${want.reason}`));
    t.regex(r.stdout, new RegExp(`hint\\s+${want.hint.source}`));
  });
}

test('explain --at: a time without its offset is a usage error that shows the expected form', async (t) => {
  const r = await runCli(['policy', 'explain', '--agent', 'sam', '--request', refundRequest(), '--at', '2026-12-05 03:00']);
  t.is(r.code, 2);
  t.regex(r.stderr, /--at must be an ISO 8601 date-time with its offset/);
});

test('explain: names the stage, contract and hint that decide; exit 1 when refused, 0 when allowed', async (t) => {
  const request = refundRequest();
  const response = write('response.json', {
    choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'issue_refund', arguments: '{"order_id":"A-42"}' } }] } }],
  });
  const refund = await runCli(['policy', 'explain', '--agent', 'refund-bot', '--request', request, '--response', response, '--json']);
  t.is(refund.code, 1, refund.stderr);
  const e = JSON.parse(refund.stdout);
  t.deepEqual(e.contracts, ['refund-desk@1']);
  t.is(e.decision.outcome, 'allow');
  t.is(e.response.verdict.reason, 'ALT_EVIDENCE_REQUIRED');
  t.regex(e.response.verdict.hint, /lookup_order/);

  const plain = write('plain.json', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] });
  const allowed = await runCli(['policy', 'explain', '--agent', 'anyone', '--request', plain]);
  t.is(allowed.code, 0, allowed.stdout);
  t.regex(allowed.stdout, /decision\s+allow/);

  // Another provider's path and wire format: a Bedrock model outside the contract's model list.
  const converse = write('converse.json', { messages: [{ role: 'user', content: [{ text: 'hi' }] }] });
  const bedrock = await runCli(['policy', 'explain', '--agent', 'refund-bot', '--request', converse, '--path', '/model/anthropic.claude-3-haiku/converse', '--json']);
  const b = JSON.parse(bedrock.stdout);
  t.is(b.decision.reason, 'ALT_CONTRACT_MODEL_DENIED');
  t.is(b.decision.stage, 'contract');
});

test('explain and check: usage errors exit 2, unreadable files exit 1 naming the file', async (t) => {
  t.is((await runCli(['policy', 'explain', '--request', 'x.json'])).code, 2);
  t.is((await runCli(['policy', 'check'])).code, 2);
  const missing = await runCli(['policy', 'explain', '--agent', 'a', '--request', join(dir, 'nope.json')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot read the request file .*nope\.json/);
  const notJson = await runCli(['policy', 'explain', '--agent', 'a', '--request', write('bad.json', '{"model":')]);
  t.is(notJson.code, 1);
  t.regex(notJson.stderr, /not JSON/);
});

test('explain --parent: a delegation chain is verified against the node root; its grant decides like a contract', async (t) => {
  const state = join(dir, 'state');
  const root = loadOrCreateRootKey(join(state, 'delegation-root.pem'));
  const holder = generateHolderKey();
  const exp = Math.floor(Date.now() / 1000) + 600;
  const chain = mintRoot(root, { sub: holder.publicKey, aud: 'worker-7', exp, models: ['gpt-4o-mini'] });
  const env = { ALTRACE_STATE_DIR: state };
  const asks = (model: string) => write(`ask-${model}.json`, { model, messages: [{ role: 'user', content: 'hello' }] });
  const inside = await runCli(['policy', 'explain', '--agent', 'worker-7', '--request', asks('gpt-4o-mini'), '--parent', chain, '--json'], env);
  t.is(inside.code, 0, inside.stdout + inside.stderr);
  const outside = await runCli(['policy', 'explain', '--agent', 'worker-7', '--request', asks('gpt-4.1'), '--parent', `@${write('chain.txt', chain + '\n')}`, '--json'], env);
  t.is(outside.code, 1);
  t.is(JSON.parse(outside.stdout).decision.reason, 'ALT_CONTRACT_MODEL_DENIED', 'the grant allows gpt-4o-mini only');
  const stranger = mintRoot(generateHolderKey().privateKey, { sub: holder.publicKey, aud: 'worker-7', exp });
  const forged = await runCli(['policy', 'explain', '--agent', 'worker-7', '--request', asks('gpt-4o-mini'), '--parent', stranger, '--json'], env);
  t.is(forged.code, 1);
  t.is(JSON.parse(forged.stdout).decision.reason, 'ALT_DELEGATION_INVALID', 'a chain from a root this node does not trust');
});
