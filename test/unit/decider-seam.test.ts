import test from 'ava';
import { Chain } from '../../proxy/src/chain/chain.js';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import type { RequestStage } from '../../proxy/src/chain/stage.js';
import { block, warn } from '../../proxy/src/core/verdict.js';
import { BudgetLedger } from '../../proxy/src/budget/ledger.js';
import { SpendAttribution } from '../../proxy/src/budget/attribution.js';
import { CopiedSeam, DirectSeam } from '../../proxy/src/decider/seam.js';
import { viewOf } from '../../proxy/src/decider/view.js';
import { hashKey } from '../../proxy/src/identity/keys.js';
import { presentedCredential } from '../../proxy/src/identity/presented.js';

const SECRET = 'alt-' + 'k'.repeat(40);
const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'mail dana@corp.example' }] });

function ctx(headers: Record<string, string> = { authorization: `Bearer ${SECRET}`, 'x-altrace-run': 'run-7', cookie: 'session=abc' }): RequestContext {
  const bytes = Buffer.from(BODY);
  return {
    id: 'r1',
    headers,
    ingress: { method: 'POST', path: '/v1/chat/completions', routed: true, methodAllowed: true, contentType: 'application/json', bodyBytes: bytes.length, tooLarge: false, jsonError: null, jsonTooDeep: false, shapeError: null, expectsBody: true },
    presented: presentedCredential(headers, null),
    call: null,
    body: bytes,
    json: JSON.parse(BODY),
    key: null,
    principal: null,
    charge: null,
    notes: [],
    rewritten: null,
    content: null,
  };
}

const budgets = { ledger: new BudgetLedger(), attribution: new SpendAttribution() };

test('the view carries no credential and no body: the virtual key crosses as its hash, the headers that carry keys stay behind', (t) => {
  const view = viewOf(ctx({ authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET, 'api-key': SECRET, 'x-goog-api-key': SECRET, cookie: 'c=1', 'x-altrace-run': 'run-7' }));
  const text = JSON.stringify(view);
  t.false(text.includes(SECRET), 'the secret is nowhere in the view');
  t.false(text.includes('dana@corp.example'), 'nor the body');
  t.is(view.presented.virtualHash, hashKey(SECRET));
  t.deepEqual(Object.keys(view.headers), ['x-altrace-run']);
  t.deepEqual(structuredClone(view), view, 'it crosses a thread boundary intact');
});

/** Stages that can only pass where each side holds what it should: the loop the body, the decider the state. */
function chainOf(log: string[]): Chain {
  const identity: RequestStage = {
    id: 'identity',
    band: 'identity',
    side: 'request',
    summary: 'identity',
    evaluate(c) {
      log.push(`identity body=${c.body === null ? 'absent' : 'present'}`);
      const presented = c.presented.virtualHash ?? (c.presented.virtual ? hashKey(c.presented.virtual) : null);
      if (presented !== hashKey(SECRET)) return block('identity', 'ALT_KEY_UNKNOWN');
      c.principal = { keyId: 'k1', agent: 'scribe', team: 'support' };
      return warn('identity', 'ALT_REAL_KEY_PASSTHROUGH');
    },
  };
  const scan: RequestStage = {
    id: 'scan',
    band: 'content',
    side: 'request',
    place: 'loop',
    summary: 'scan',
    async evaluate(c) {
      log.push(`scan for ${c.principal?.agent ?? 'nobody'}`);
      const text = Buffer.from(c.body!).toString('utf8');
      if (!text.includes('@')) return null;
      c.content = { labels: new Set(['pii.email']), rules: new Set(['email']), outbound: new Set() };
      const json = JSON.parse(text.replace('dana@corp.example', '[EMAIL]'));
      c.rewritten = { json, bytes: Buffer.from(JSON.stringify(json)) };
      c.notes.push(warn('scan', 'ALT_CONTENT_REDACTED', 'pii.email'));
      return null;
    },
  };
  const spend: RequestStage = {
    id: 'spend',
    band: 'budget',
    side: 'request',
    summary: 'spend',
    async evaluate(c) {
      const sent = c.sent ? { bytes: c.sent.bytes, text: await c.sent.text() } : { bytes: c.rewritten!.bytes.length, text: Buffer.from(c.rewritten!.bytes).toString('utf8') };
      log.push(`spend ${sent.bytes} ${sent.text.includes('[EMAIL]') ? 'redacted' : 'raw'} labels=${[...(c.content?.labels ?? [])].join(',')}`);
      return null;
    },
  };
  return new Chain([spend, scan, identity], { stageTimeoutMs: 1000 });
}

test('across the copied seam, the loop stage runs at its place with the decider’s principal, and what it records reaches the decider and back', async (t) => {
  const logs = { direct: [] as string[], copied: [] as string[] };
  const direct = ctx();
  const copied = ctx();
  const vd = await new DirectSeam(chainOf(logs.direct), budgets).decide(direct);
  const vc = await new CopiedSeam(chainOf(logs.copied), budgets).decide(copied);
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
  const c = ctx({ authorization: 'Bearer alt-someone-else-000000000000000000000000' });
  const v = await new CopiedSeam(chainOf(log), budgets).decide(c);
  t.is(v.reason, 'ALT_KEY_UNKNOWN');
  t.deepEqual(log, ['identity body=absent']);
  t.is(c.rewritten, null, 'nothing was rewritten in the loop');
});

test('a loop stage that fails blocks with its own id, fail closed, on the decider', async (t) => {
  const throwing: RequestStage = { id: 'scan', band: 'content', side: 'request', place: 'loop', summary: 'scan', evaluate: () => { throw new Error('scanner died'); } };
  const rejecting: RequestStage = { id: 'scan', band: 'content', side: 'request', place: 'loop', summary: 'scan', evaluate: () => Promise.reject(new Error('pool gone')) };
  for (const stage of [throwing, rejecting]) {
    const v = await new CopiedSeam(new Chain([stage], { stageTimeoutMs: 1000 }), budgets).decide(ctx());
    t.is(v.outcome, 'block');
    t.is(v.reason, 'ALT_STAGE_FAILED');
    t.is(v.stage, 'scan');
  }
});

test('the copied seam settles a charge once, where its reservation was taken; the loop holds no reservation', async (t) => {
  const ledger = new BudgetLedger();
  ledger.setBudget({ scope: 'agent', target: 'scribe', limits: { daily: 1, weekly: null, monthly: null }, by: 'test', updatedAt: 0 });
  const reserving: RequestStage = {
    id: 'budget',
    band: 'budget',
    side: 'request',
    summary: 'budget',
    evaluate(c) {
      const subjects = { key: 'k1', agent: 'scribe', team: 'support', cost_center: null };
      const reservation = ledger.reserve(subjects, 0.25, Date.now());
      if (!('counters' in reservation)) return block('budget', 'ALT_BUDGET_EXCEEDED');
      c.charge = { subjects, price: null, reservation, inputTokens: 10, encoding: null, fn: null };
      return null;
    },
  };
  const seam = new CopiedSeam(new Chain([reserving], { stageTimeoutMs: 1000 }), { ledger, attribution: new SpendAttribution() });
  const c = ctx();
  t.is((await seam.decide(c)).outcome, 'allow');
  t.is(c.charge!.reservation, null, 'the reservation stayed with the decider');
  const outcome = { upstreamCalled: true, ok: true, completed: true, usage: null, outputText: '', provider: 'openai', model: 'gpt-4o-mini' };
  t.not(seam.settle(c, outcome, Date.now()), null);
  t.is(seam.settle(c, outcome, Date.now()), null, 'a second settlement finds nothing');
  const after = ledger.reserve({ key: 'k1', agent: 'scribe', team: 'support', cost_center: null }, 0.9, Date.now());
  t.true('counters' in after, 'the reservation was released: the whole budget is there again');
});
