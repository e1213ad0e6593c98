import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { ApprovalService } from '../../agent/src/services/approval-service.js';
import { SqliteStore } from '../../agent/src/state/sqlite.js';
import type { ApprovalAsk } from '../../proxy/src/contracts/approvals.js';
import { compileContract } from '../../proxy/src/contracts/compile.js';
import { conditionsHold } from '../../proxy/src/contracts/approvals.js';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import { approvalGate } from '../../proxy/src/chain/stages/approval-gate.js';
import type { CallView } from '../../proxy/src/core/call-view.js';
import { parseMcp } from '../../proxy/src/providers/mcp/parse.js';

const ask: ApprovalAsk = { requestId: 'r', agent: 'a', team: 't', keyId: 'k', run: null, contract: 'c@1', rule: 'g', kind: 'tool', subject: 'pay', arguments: '{"amount":5}', timeoutMs: 60_000 };
const admin = { name: 'admin', team: null };

test('a decision is on disk before the waiting request proceeds; a restart expires what was pending', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-approvals-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  let store = new SqliteStore(dir);
  let service = await ApprovalService.open(store);
  const answered = service.ask(ask);
  const [pending] = await service.list(admin, null, 10);
  t.is(pending!.status, 'pending');
  t.is(service.argumentsOf(pending!.id), '{"amount":5}');
  await service.decide(admin, pending!.id, 'denied', { reason: 'no' });
  t.deepEqual(await answered, { id: pending!.id, outcome: 'denied', by: 'admin', reason: 'no' });
  // Read back from a second connection: the decision reached the database.
  const reader = new SqliteStore(dir);
  t.is(reader.getApproval(pending!.id)!.status, 'denied');
  reader.close();

  const orphan = service.ask({ ...ask, requestId: 'r2' });
  // The process dies with the request waiting: nothing records a decision.
  store.close();
  await service.close();
  t.is((await orphan).outcome, 'expired', 'a waiter is refused even when the store cannot record it');
  store = new SqliteStore(dir);
  service = await ApprovalService.open(store);
  const expired = await service.list(admin, 'expired', 10);
  t.is(expired.length, 1, 'the request that waited died with the process: its approval expired');
  t.regex(expired[0]!.reason!, /restarted/);
  await t.throwsAsync(() => service.decide(admin, expired[0]!.id, 'approved', {}), { message: /already expired/ });
  await t.throwsAsync(() => service.decide({ name: 'ops', team: 'other' }, pending!.id, 'approved', {}), { message: /no approval/ });
  await service.close();
  store.close();
});

test('a gate without an answer expires at its timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-approvals-unit-'));
  const store = new SqliteStore(dir);
  t.teardown(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const service = await ApprovalService.open(store);
  const a = await service.ask({ ...ask, timeoutMs: 50 });
  t.is(a.outcome, 'expired');
  t.is(store.getApproval(a.id)!.status, 'expired');
});

test('argument conditions: over, under, equals, in; every one must hold', (t) => {
  const c = compileContract(
    { contract: 'c', version: 1, applies_to: { agents: ['a'] }, approvals: [{ id: 'g', tool: 'pay', when: { amount: { over: 100, under: 1000 }, 'to.country': { in: ['KP', 'IR'] } } }] },
    'x',
  );
  const rule = c.approvals[0]!;
  t.true(conditionsHold(rule, '{"amount":500,"to":{"country":"KP"}}'));
  t.true(conditionsHold(rule, { amount: '500', to: { country: 'IR' } }), 'numbers sent as strings compare as numbers');
  t.false(conditionsHold(rule, { amount: 50, to: { country: 'KP' } }));
  t.false(conditionsHold(rule, { amount: 500, to: { country: 'FR' } }));
  t.false(conditionsHold(rule, { to: { country: 'KP' } }), 'a missing argument does not meet "over"');
  t.throws(() => compileContract({ contract: 'c', version: 1, applies_to: { agents: ['a'] }, approvals: [{ id: 'g', tool: 'pay', when: { amount: { over: 10, under: 5 } } }] }, 'x'), {
    message: /can never both hold/,
  });
  t.throws(() => compileContract({ contract: 'c', version: 1, applies_to: { agents: ['a'] }, approvals: [{ id: 'g' }] }, 'x'), { message: /exactly one of tool or model/ });
});

test('an MCP batch with several gated tool calls asks about each; one refusal refuses the batch', async (t) => {
  const contract = compileContract(
    { contract: 'desk', version: 1, applies_to: { agents: ['a'] }, tools: { refund: 'write', wipe: 'delete' }, approvals: [{ id: 'big', tool: 'refund', when: { amount: { over: 100 } } }, { id: 'wipes', tool: 'wipe' }] },
    'desk.yaml',
  );
  const asked: ApprovalAsk[] = [];
  const answers = ['approved', 'denied'] as const;
  const desk = { ask: async (a: ApprovalAsk) => ({ id: `apr_${asked.push(a)}`, outcome: answers[asked.length - 1]!, by: 'op', reason: null }) };
  const view = parseMcp('tools', [
    { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'refund', arguments: { amount: 150 } } },
    { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'refund', arguments: { amount: 5 } } },
    { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'wipe', arguments: {} } },
  ]) as CallView;
  const ctx = { id: 'r', headers: {}, call: view, contracts: [contract], principal: { keyId: 'k', agent: 'a', team: 't' }, notes: [] } as unknown as RequestContext;
  const v = await approvalGate(desk).evaluate(ctx);
  t.deepEqual(asked.map((a) => [a.subject, a.rule]), [['refund', 'big'], ['wipe', 'wipes']], 'the small refund needs no approval; the other two are each asked');
  t.is(v?.reason, 'ALT_APPROVAL_DENIED');
  t.deepEqual(ctx.notes.map((n) => n.reason), ['ALT_APPROVAL_GRANTED']);
});
