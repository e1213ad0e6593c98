import test from 'ava';
import { once } from 'node:events';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Chain } from '../../proxy/src/chain/chain.js';
import type { RequestStage } from '../../proxy/src/chain/stage.js';
import { block } from '../../proxy/src/core/verdict.js';
import { BudgetLedger } from '../../proxy/src/budget/ledger.js';
import { SpendAttribution } from '../../proxy/src/budget/attribution.js';
import { CopiedSeam, DirectSeam } from '../../proxy/src/decider/seam.js';
import { viewOf } from '../../proxy/src/decider/view.js';
import { DeciderHost } from '../../proxy/src/decider/host.js';
import { PortSeam } from '../../proxy/src/decider/port-seam.js';
import { hashKey } from '../../proxy/src/identity/keys.js';
import { EMAIL, SECRET, requestContext, seamChain } from '../fixtures/decider/stages.js';
import { eventually } from '../helpers/harness.js';

const SUBJECTS = { key: 'k1', agent: 'scribe', team: 'support', cost_center: null };

/** A budget stage reduced to its reservation: `usd` on agent scribe's budget, or a refusal. */
function reservingStage(ledger: BudgetLedger, usd: number): RequestStage {
  return {
    id: 'budget',
    band: 'budget',
    side: 'request',
    summary: 'budget',
    evaluate(c) {
      const reservation = ledger.reserve(SUBJECTS, usd, Date.now());
      if (!('counters' in reservation)) return block('budget', 'ALT_BUDGET_EXCEEDED');
      c.charge = { subjects: SUBJECTS, price: null, reservation, inputTokens: 10, encoding: null, fn: null };
      return null;
    },
  };
}

const budgets = { ledger: new BudgetLedger(), attribution: new SpendAttribution() };

test('the view carries no credential and no body: the virtual key crosses as its hash, the headers that carry keys stay behind', (t) => {
  const view = viewOf(requestContext('r1', { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET, 'api-key': SECRET, 'x-goog-api-key': SECRET, cookie: 'c=1', 'x-altrace-run': 'run-7' }), '127.0.0.1');
  const text = JSON.stringify(view);
  t.false(text.includes(SECRET), 'the secret is nowhere in the view');
  t.false(text.includes(EMAIL), 'nor the body');
  t.is(view.presented.virtualHash, hashKey(SECRET));
  t.deepEqual(Object.keys(view.headers), ['x-altrace-run']);
  t.deepEqual(structuredClone(view), view, 'it crosses a thread boundary intact');
});

test('across the copied seam, the loop stage runs at its place with the decider’s principal, and what it records reaches the decider and back', async (t) => {
  const logs = { direct: [] as string[], copied: [] as string[] };
  const direct = requestContext();
  const copied = requestContext();
  const vd = await new DirectSeam(seamChain(logs.direct), budgets).decide(direct);
  const vc = await new CopiedSeam(seamChain(logs.copied), budgets).decide(copied, '127.0.0.1');
  t.deepEqual(vc, vd);
  const redactedBytes = copied.rewritten!.bytes.length;
  t.deepEqual(logs.copied, ['identity body=absent', 'scan for scribe', `spend ${redactedBytes} redacted labels=pii.email`]);
  t.deepEqual(logs.direct, ['identity body=present', 'scan for scribe', `spend ${redactedBytes} redacted labels=pii.email`]);
  for (const c of [direct, copied]) {
    t.deepEqual(c.principal, { keyId: 'k1', agent: 'scribe', team: 'support' });
    t.deepEqual(c.notes.map((n) => n.reason), ['ALT_REAL_KEY_PASSTHROUGH', 'ALT_CONTENT_REDACTED'], 'notes in the declared order');
    t.deepEqual([...c.content!.labels], ['pii.email']);
  }
});

test('the first stop decides across the seam: a decider stage before a loop stage wins, and the loop stage is never asked', async (t) => {
  const log: string[] = [];
  const c = requestContext('r1', { authorization: 'Bearer alt-someone-else-000000000000000000000000' });
  const v = await new CopiedSeam(seamChain(log), budgets).decide(c, '127.0.0.1');
  t.is(v.reason, 'ALT_KEY_UNKNOWN');
  t.deepEqual(log, ['identity body=absent']);
  t.is(c.rewritten, null, 'nothing was rewritten in the loop');
});

test('a loop stage that fails blocks with its own id, fail closed, on the decider', async (t) => {
  const throwing: RequestStage = { id: 'scan', band: 'content', side: 'request', place: 'loop', summary: 'scan', evaluate: () => { throw new Error('scanner died'); } };
  const rejecting: RequestStage = { id: 'scan', band: 'content', side: 'request', place: 'loop', summary: 'scan', evaluate: () => Promise.reject(new Error('pool gone')) };
  for (const stage of [throwing, rejecting]) {
    const v = await new CopiedSeam(new Chain([stage], { stageTimeoutMs: 1000 }), budgets).decide(requestContext(), '127.0.0.1');
    t.is(v.outcome, 'block');
    t.is(v.reason, 'ALT_STAGE_FAILED');
    t.is(v.stage, 'scan');
  }
});

test('the copied seam settles a charge once, where its reservation was taken; the loop holds no reservation', async (t) => {
  const ledger = new BudgetLedger();
  ledger.setBudget({ scope: 'agent', target: 'scribe', limits: { daily: 1, weekly: null, monthly: null }, by: 'test', updatedAt: 0 });
  const reserving = reservingStage(ledger, 0.25);
  const seam = new CopiedSeam(new Chain([reserving], { stageTimeoutMs: 1000 }), { ledger, attribution: new SpendAttribution() });
  const c = requestContext();
  t.is((await seam.decide(c, '127.0.0.1')).outcome, 'allow');
  t.is(c.charge!.reservation, null, 'the reservation stayed with the decider');
  const outcome = { upstreamCalled: true, ok: true, completed: true, usage: null, outputText: '', provider: 'openai', model: 'gpt-4o-mini' };
  t.not(seam.settle(c, outcome, Date.now()), null, 'the loop works out what the call cost');
  t.is(seam.settle(c, outcome, Date.now()), null, 'a second settlement finds nothing');
  t.false('counters' in ledger.reserve(SUBJECTS, 0.9, Date.now()), 'booked by the decider, after the message crossed');
  // Booked once: were the second settlement booked too, or the reservation kept, 0.9 would not fit.
  await eventually(() => 'counters' in ledger.reserve(SUBJECTS, 0.9, Date.now()), 2000, 'the reservation released: the whole budget there again');
});

test('a loop on another thread decides through its port: concurrent requests, each with its own answer, the body never leaving the loop', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const log: string[] = [];
  new DeciderHost(seamChain(log), budgets).serve(port2);
  const requests = [
    { id: 'a', headers: { authorization: `Bearer ${SECRET}` } },
    { id: 'b', headers: { authorization: 'Bearer alt-not-a-key-000000000000000000000000000' } },
    { id: 'c', headers: { 'x-api-key': SECRET } },
  ];
  const worker = new Worker(new URL('../fixtures/decider/loop-thread.js', import.meta.url), { workerData: { port: port1, requests }, transferList: [port1] });
  try {
    const [done] = (await once(worker, 'message')) as [{ results: { id: string; verdict: { reason: string }; principal: unknown; notes: string[]; redacted: boolean }[]; log: string[] }];
    const byId = new Map(done.results.map((r) => [r.id, r]));
    t.is(byId.get('a')!.verdict.reason, 'ALT_ALLOWED');
    t.deepEqual(byId.get('a')!.notes, ['ALT_REAL_KEY_PASSTHROUGH', 'ALT_CONTENT_REDACTED']);
    t.true(byId.get('a')!.redacted);
    t.deepEqual(byId.get('c')!.principal, { keyId: 'k1', agent: 'scribe', team: 'support' }, 'a key in x-api-key crosses as its hash too');
    t.is(byId.get('b')!.verdict.reason, 'ALT_KEY_UNKNOWN');
    t.false(byId.get('b')!.redacted, 'a refused request was never scanned');
    t.deepEqual(done.log.sort(), ['scan for scribe', 'scan for scribe'], 'the loop ran its stage, for the principal the decider found');
    t.deepEqual(log.filter((l) => l.startsWith('identity')), ['identity body=absent', 'identity body=absent', 'identity body=absent'], 'the decider never held a body');
    t.is(log.filter((l) => l.includes('redacted labels=pii.email')).length, 2, 'the budget stage read the body as forwarded, asked of the loop');
  } finally {
    await worker.terminate();
  }
});

test('a loop that goes while its requests hold reservations: the decider settles them at what they reserved', async (t) => {
  const ledger = new BudgetLedger();
  ledger.setBudget({ scope: 'agent', target: 'scribe', limits: { daily: 1, weekly: null, monthly: null }, by: 'test', updatedAt: 0 });
  const reserving = reservingStage(ledger, 0.4);
  const chain = new Chain([reserving], { stageTimeoutMs: 1000 });
  const { port1, port2 } = new MessageChannel();
  const host = new DeciderHost(chain, { ledger, attribution: new SpendAttribution() });
  host.serve(port2);
  const loop = new PortSeam(chain, port1);
  t.is((await loop.decide(requestContext('r1'), '127.0.0.1')).outcome, 'allow');
  t.is((await loop.decide(requestContext('r2'), '127.0.0.1')).outcome, 'allow');
  t.is(ledger.usage('agent', 'scribe', 'daily', Date.now()).reserved, 0.8);
  port1.close();
  await once(port2, 'close');
  const usage = ledger.usage('agent', 'scribe', 'daily', Date.now());
  t.is(usage.reserved, 0, 'nothing left reserved');
  t.is(Math.round(usage.spent * 10) / 10, 0.8, 'spent at what was reserved: a crash frees no budget');
  t.is(host.loops, 0);
});

test('a keyless request from a known pod is governed as the pod’s agent by the decider, and the loop learns the pod for its record', async (t) => {
  const pod = { namespace: 'research', name: 'agent-0', owner: 'Deployment/agent', serviceAccount: 'agent', node: 'n1', agent: 'researcher', team: 'science', costCenter: 'cc-9' };
  const seen: string[] = [];
  const governed: RequestStage = { id: 'identity', band: 'identity', side: 'request', summary: 'identity', evaluate: (c) => (seen.push(`${c.principal?.agent ?? 'nobody'}`), c.principal ? null : block('identity', 'ALT_KEY_MISSING')) };
  const chain = new Chain([governed], { stageTimeoutMs: 1000 });
  const { port1, port2 } = new MessageChannel();
  new DeciderHost(chain, budgets, { peerWorkload: (address) => (address === '10.0.0.7' ? { id: 'pod:research/agent-0', pod, agent: null, team: null } : null) }).serve(port2);
  const loop = new PortSeam(chain, port1);
  const fromPod = requestContext('r1', {});
  t.is((await loop.decide(fromPod, '10.0.0.7')).outcome, 'allow');
  t.is(fromPod.principal?.agent, 'researcher');
  t.deepEqual(fromPod.pod, pod, 'the loop knows the pod for the audit record');
  const stranger = requestContext('r2', {});
  t.is((await loop.decide(stranger, '10.0.0.8')).reason, 'ALT_KEY_MISSING');
  t.deepEqual(seen, ['researcher', 'nobody']);
  port1.close();
});

test('a loop stage run before asking is bounded by the stage timeout like any stage, and is run only for a caller that presents something', async (t) => {
  const ran: string[] = [];
  const identity: RequestStage = { id: 'identity', band: 'identity', side: 'request', summary: 'identity', evaluate: (c) => (ran.push('identity'), c.presented.virtualHash ? null : block('identity', 'ALT_KEY_MISSING')) };
  const stalled: RequestStage = { id: 'scan', band: 'content', side: 'request', place: 'loop', ahead: () => true, summary: 'scan', evaluate: () => (ran.push('scan'), new Promise<null>(() => {})) };
  const chain = new Chain([identity, stalled], { stageTimeoutMs: 100 });
  const { port1, port2 } = new MessageChannel();
  new DeciderHost(chain, budgets).serve(port2);
  const loop = new PortSeam(chain, port1);
  const v = await loop.decide(requestContext('r1'), '127.0.0.1');
  t.is(v.reason, 'ALT_STAGE_TIMEOUT');
  t.is(v.stage, 'scan');
  ran.length = 0;
  t.is((await loop.decide(requestContext('r2', {}), '127.0.0.1')).reason, 'ALT_KEY_MISSING');
  t.deepEqual(ran, ['identity'], 'nothing was scanned for a caller that presented nothing');
  port1.close();
});
