import test from 'ava';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { DecisionLine, type DecisionFields } from '../../proxy/src/decision-line.js';
import { createLogger } from '../../proxy/src/log.js';

function capture(): { stream: Writable; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      cb();
    },
  });
  return { stream, lines };
}

const fields: DecisionFields = {
  req_id: 'r-1',
  provider: 'openai',
  upstream: 'openai',
  op: 'chat',
  model: 'gpt "quoted"\nmodel\u2028',
  stream: false,
  agent: 'a',
  team: undefined,
  key_id: null,
  outcome: 'block',
  reason: 'ALT_CONTENT_SECRET',
  stage: 'content-request',
  detail: 'secret (x) in messages[0].content',
  warnings: ['ALT_CONTENT_FLAGGED'],
  status: 403,
  fragments: undefined,
  labels: ['secret', 'pii.email'],
  contracts: ['refunds@3'],
  cost_usd: 0.000123,
  tokens_in: 12,
  tokens_out: Number.NaN,
  overhead_ms: 0.125,
  upstream_ms: 0,
};

// The line is written by hand for speed; it must be the line pino itself would have written.
test('the decision line parses to what pino would have logged for the same fields', async (t) => {
  const ours = capture();
  new DecisionLine(createLogger('info', ours.stream)).write(fields);
  const theirs = capture();
  createLogger('info', theirs.stream).info(fields, 'decision');
  await new Promise((r) => setImmediate(r));
  t.is(ours.lines.length, 1);
  const a = JSON.parse(ours.lines[0]!) as Record<string, unknown>;
  const b = JSON.parse(theirs.lines[0]!) as Record<string, unknown>;
  t.true(Math.abs((a.time as number) - (b.time as number)) < 1000);
  delete a.time;
  delete b.time;
  t.deepEqual(a, b);
  t.deepEqual(Object.keys(a), Object.keys(b));
  t.false('team' in a, 'undefined fields are left out');
  t.is(a.key_id, null);
  t.is(a.tokens_out, null, 'a number JSON cannot hold is written as null');
  t.is(a.model, fields.model);
});

test('a logger below info writes nothing; one with a mixin goes through pino', async (t) => {
  const quiet = capture();
  const line = new DecisionLine(createLogger('warn', quiet.stream));
  t.false(line.enabled);
  const mixed = capture();
  const withMixin = pino({ mixin: () => ({ extra: 1 }) }, mixed.stream);
  new DecisionLine(withMixin).write(fields);
  await new Promise((r) => setImmediate(r));
  t.is(quiet.lines.length, 0);
  t.is((JSON.parse(mixed.lines[0]!) as { extra: number }).extra, 1);
});

test('remembered quoting stays right across more distinct values than it keeps, escapes included', async (t) => {
  const out = capture();
  const line = new DecisionLine(createLogger('info', out.stream));
  const models = Array.from({ length: 5000 }, (_, i) => (i % 3 === 0 ? `m"${i}\\\n` : `model-${i}`));
  // Twice over: the second pass reads values back after the memory has started again.
  for (const model of [...models, ...models]) line.write({ ...fields, model, agent: `agent-${model.length}` });
  await new Promise((r) => setImmediate(r));
  t.is(out.lines.length, 10_000);
  out.lines.forEach((l, i) => {
    const parsed = JSON.parse(l) as { model: string; agent: string };
    const model = models[i % 5000]!;
    if (parsed.model !== model || parsed.agent !== `agent-${model.length}`) t.fail(`line ${i}: ${l}`);
  });
  t.pass();
});
