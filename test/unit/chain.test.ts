import test from 'ava';
import { Chain, ChainCompositionError } from '../../proxy/src/chain/chain.js';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import type { RequestStage, ResponseStage } from '../../proxy/src/chain/stage.js';
import { block, warn } from '../../proxy/src/core/verdict.js';

function ctx(): RequestContext {
  return {
    id: 'r1',
    headers: {},
    ingress: { method: 'POST', path: '/', routed: true, methodAllowed: true, contentType: null, bodyBytes: 0, tooLarge: false, jsonError: null, jsonTooDeep: false, shapeError: null, expectsBody: false },
    presented: { virtual: null, realIn: null, realValue: null },
    call: null,
    body: null,
    key: null,
    principal: null,
    charge: null,
    notes: [],
    json: undefined,
    rewritten: null,
    content: null,
  };
}

const stage = (id: string, band: RequestStage['band'], evaluate: RequestStage['evaluate']): RequestStage => ({ id, band, side: 'request', summary: id, evaluate });

test('stages run in band order whatever the declaration order; the first block decides', (t) => {
  const ran: string[] = [];
  const chain = new Chain(
    [
      stage('budget', 'budget', () => (ran.push('budget'), block('budget', 'ALT_STAGE_FAILED'))),
      stage('ingress', 'ingress', () => (ran.push('ingress'), null)),
      stage('contract', 'contract', () => (ran.push('contract'), block('contract', 'ALT_MODEL_NOT_ALLOWED'))),
    ],
    { stageTimeoutMs: 100 },
  );
  t.deepEqual(chain.describe().map((s) => s.id), ['ingress', 'contract', 'budget']);
  const v = chain.evaluateRequest(ctx());
  t.false(v instanceof Promise);
  t.is((v as { reason: string }).reason, 'ALT_MODEL_NOT_ALLOWED');
  t.deepEqual(ran, ['ingress', 'contract']);
});

test('warnings are collected and do not stop the chain', (t) => {
  const c = ctx();
  const chain = new Chain([stage('w', 'identity', () => warn('w', 'ALT_REAL_KEY_PASSTHROUGH')), stage('ok', 'contract', () => null)], { stageTimeoutMs: 100 });
  const v = chain.evaluateRequest(c) as { outcome: string };
  t.is(v.outcome, 'allow');
  t.is(c.notes[0]!.reason, 'ALT_REAL_KEY_PASSTHROUGH');
});

test('a stage that throws blocks with ALT_STAGE_FAILED (fail closed)', (t) => {
  const chain = new Chain([stage('boom', 'contract', () => { throw new Error('bug'); })], { stageTimeoutMs: 100 });
  const v = chain.evaluateRequest(ctx()) as { reason: string; stage: string; outcome: string };
  t.is(v.outcome, 'block');
  t.is(v.reason, 'ALT_STAGE_FAILED');
  t.is(v.stage, 'boom');
});

test('an asynchronous stage that stalls blocks with ALT_STAGE_TIMEOUT; one that rejects fails closed', async (t) => {
  const stall = new Chain([stage('slow', 'content', () => new Promise(() => {}))], { stageTimeoutMs: 30 });
  t.is((await stall.evaluateRequest(ctx())).reason, 'ALT_STAGE_TIMEOUT');
  const reject = new Chain([stage('rej', 'content', () => Promise.reject(new Error('x')))], { stageTimeoutMs: 30 });
  t.is((await reject.evaluateRequest(ctx())).reason, 'ALT_STAGE_FAILED');
});

test('duplicate stage ids are refused at composition', (t) => {
  t.throws(() => new Chain([stage('a', 'ingress', () => null), stage('a', 'kill', () => null)], { stageTimeoutMs: 1 }), { instanceOf: ChainCompositionError });
});

test('response inspection reports the lowest failing fragment over all stages, and fails closed', async (t) => {
  const at = (id: string, index: number | null): ResponseStage => ({
    id,
    band: 'content',
    side: 'response',
    summary: id,
    open: () => ({ inspect: () => (index === null ? null : { index, verdict: block(id, 'ALT_RESPONSE_PATTERN_DENIED') }), close() {} }),
  });
  const chain = new Chain([at('late', 3), at('early', 1), at('none', null)], { stageTimeoutMs: 50 });
  const r = chain.openResponse({ request: ctx(), streaming: true })!;
  const f = await r.inspect([{ text: 'a' }, { text: 'b' }, { text: 'c' }, { text: 'd' }]);
  t.is(f!.index, 1);
  t.is(f!.verdict.stage, 'early');
  const broken: ResponseStage = { id: 'broken', band: 'content', side: 'response', summary: '', open: () => ({ inspect: () => { throw new Error('x'); }, close() {} }) };
  const r2 = new Chain([broken], { stageTimeoutMs: 50 }).openResponse({ request: ctx(), streaming: true })!;
  t.is((await r2.inspect([{ text: 'a' }]))!.verdict.reason, 'ALT_STAGE_FAILED');
});
