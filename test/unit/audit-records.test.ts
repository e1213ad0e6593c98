import test from 'ava';
import fc from 'fast-check';
import { EventBatch } from '../../agent/src/audit/event-batch.js';
import { chainRecord, decodeRecord, encodeEvent, encodeRecord, unpackEvents, type AuditEvent } from '../../agent/src/audit/records.js';

const events: AuditEvent[] = [
  { time: 1_764_700_000_000, principal: { key_id: 'k1', agent: 'a', team: 't' }, decision: { request_id: 'r1', provider: 'openai', outcome: 'block', reason: 'ALT_CONTENT_SECRET', labels: ['secret'], rules: ['openai-api-key'], cost_usd: 0.25 } },
  { time: 1_764_700_000_001, control: { operator: 'admin', action: 'KILL agent', target: 'a', status: 201 } },
  { time: 1_764_700_000_002, decision: { request_id: 'r2', outcome: 'allow', reason: 'ALT_ALLOWED' } },
];

function batched(es: readonly AuditEvent[], initialBytes?: number): Buffer[] {
  const batch = new EventBatch(initialBytes);
  for (const e of es) batch.add(e);
  return unpackEvents(batch.take()).map((b) => Buffer.from(b));
}

// The writer chains events the agent encoded; the record must be the one encodeRecord would make.
test('an event encoded on the agent, chained by the writer, decodes to the same record', (t) => {
  const prev = Buffer.alloc(32, 7);
  const fast = batched(events);
  for (const [i, e] of events.entries()) {
    const { time, ...rest } = e;
    const expected = decodeRecord(encodeRecord({ seq: i, time_unix_ms: time, prev_leaf_hash: prev, ...rest }));
    t.deepEqual(decodeRecord(chainRecord(i, prev, encodeEvent(e))), expected);
    t.deepEqual(decodeRecord(chainRecord(i, prev, fast[i]!)), expected);
  }
});

test('the chain head is the bytes protobufjs writes for seq and the previous leaf hash, up past 2^32', (t) => {
  for (const seq of [0, 1, 127, 128, 300, 16_383, 16_384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) {
    for (const prev of [Buffer.alloc(0), Buffer.alloc(32, seq % 251)]) {
      const expected = Buffer.from(encodeRecord({ seq, time_unix_ms: 0, prev_leaf_hash: prev }));
      t.deepEqual(chainRecord(seq, prev, new Uint8Array(0)), expected, `seq ${seq}, previous hash of ${prev.length} bytes`);
    }
  }
});

test('a batch unpacks to its events in order, and starts empty again once taken', (t) => {
  const batch = new EventBatch();
  for (const e of events) batch.add(e);
  t.is(batch.count, 3);
  t.deepEqual(unpackEvents(batch.take()).map((b) => Buffer.from(b)), events.map((e) => Buffer.from(encodeEvent(e))));
  t.is(batch.count, 0);
  t.deepEqual(unpackEvents(batch.take()), []);
  batch.add(events[2]!);
  t.deepEqual(unpackEvents(batch.take()).map((b) => Buffer.from(b)), [Buffer.from(encodeEvent(events[2]!))]);
  // A batch that grew for one large event shrinks back once taken, and goes on encoding.
  const small = new EventBatch(64);
  const large: AuditEvent = { time: 1, decision: { request_id: 'r', outcome: 'block', reason: 'ALT_X', detail: 'd'.repeat(10_000) } };
  small.add(large);
  t.deepEqual(unpackEvents(small.take()).map((b) => Buffer.from(b)), [Buffer.from(encodeEvent(large))]);
  small.add(events[0]!);
  t.deepEqual(unpackEvents(small.take()).map((b) => Buffer.from(b)), [Buffer.from(encodeEvent(events[0]!))]);
});

// The hand-written encoder must make protobufjs's bytes for every event the agent can hand it.
test('the batch encodes every event as protobufjs does, byte for byte (property)', (t) => {
  const text = fc.oneof(fc.string({ maxLength: 50 }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constantFrom('', 'é', '\u{1F600}'.repeat(50), 'x'.repeat(300)));
  const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
  const uint = fc.oneof(fc.nat(300), fc.constantFrom(127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1), fc.maxSafeNat());
  const u32 = fc.oneof(fc.nat(300), fc.constantFrom(127, 128, 2 ** 32 - 1));
  const principal = fc.record({ key_id: maybe(text), agent: maybe(text), team: maybe(text), cost_center: maybe(text), pod: maybe(text) }, { requiredKeys: [] });
  const decision = fc.record(
    {
      request_id: text, provider: maybe(text), upstream: maybe(text), operation: maybe(text), model: maybe(text), stream: maybe(fc.boolean()),
      outcome: text, reason: text, stage: maybe(text), detail: maybe(text), status: maybe(u32), contract: maybe(text),
      cost_usd: maybe(fc.oneof(fc.double({ noNaN: true }), fc.constant(0))), input_tokens: maybe(uint), output_tokens: maybe(uint), price_table: maybe(text),
      warnings: maybe(fc.array(text, { maxLength: 3 })), function: maybe(text), run: maybe(text), fragments: maybe(u32),
      labels: maybe(fc.array(text, { maxLength: 3 })), rules: maybe(fc.array(text, { maxLength: 3 })), contracts: maybe(fc.array(text, { maxLength: 3 })),
    },
    { requiredKeys: ['request_id', 'outcome', 'reason'] },
  );
  const control = fc.record({ operator: text, operator_team: maybe(text), action: text, target: maybe(text), status: u32, error: maybe(text) }, { requiredKeys: ['operator', 'action', 'status'] });
  const event: fc.Arbitrary<AuditEvent> = fc.oneof(
    fc.record({ time: uint, principal: maybe(principal), decision }, { requiredKeys: ['time', 'decision'] }),
    fc.record({ time: uint, principal: maybe(principal), control }, { requiredKeys: ['time', 'control'] }),
  ) as fc.Arbitrary<AuditEvent>;
  fc.assert(
    fc.property(fc.array(event, { minLength: 1, maxLength: 8 }), fc.constantFrom(16, 64 * 1024), (es, initial) => {
      t.deepEqual(batched(es, initial), es.map((e) => Buffer.from(encodeEvent(e))));
    }),
    { numRuns: 300 },
  );
});

test('values only protobufjs converts (a negative time, a fractional count) are encoded by it, in place', (t) => {
  const odd: AuditEvent[] = [
    { time: -5, decision: { request_id: 'r', outcome: 'allow', reason: 'ALT_ALLOWED' } },
    { time: 1, decision: { request_id: 'r', outcome: 'allow', reason: 'ALT_ALLOWED', input_tokens: 2.5 } },
    events[0]!,
  ];
  t.deepEqual(batched(odd), odd.map((e) => Buffer.from(encodeEvent(e))));
});

test('a lone surrogate is written as U+FFFD and the record still decodes', (t) => {
  const [bytes] = batched([{ time: 1, decision: { request_id: 'r', outcome: 'allow', reason: 'ALT_ALLOWED', model: 'gpt\uD800' } }]);
  t.is(decodeRecord(chainRecord(0, Buffer.alloc(32), bytes!)).decision?.model, 'gpt\uFFFD');
});

test('oversized fields and lists are bounded the same way by both encoders, far under the reader limit', (t) => {
  const huge = 'x'.repeat(1_200_000);
  const many = Array.from({ length: 5000 }, (_, i) => `label-${i}-${'y'.repeat(1000)}`);
  const hostile: AuditEvent[] = [
    { time: 1, principal: { agent: huge, team: huge }, decision: { request_id: huge, outcome: 'block', reason: 'ALT_KEY_MISSING', model: huge, detail: huge, run: huge, function: huge, labels: many, rules: many, warnings: many, contracts: many } },
    { time: 2, control: { operator: huge, action: huge, target: huge, status: 201, error: huge } },
  ];
  const fast = batched(hostile);
  for (const [i, e] of hostile.entries()) {
    const slow = Buffer.from(encodeEvent(e));
    t.deepEqual(fast[i], slow, 'the hand-written encoder and protobufjs write the same bytes');
    t.true(slow.length < 512 * 1024, `event ${i} is ${slow.length} bytes`);
  }
  const r = decodeRecord(chainRecord(0, Buffer.alloc(0), fast[0]!));
  t.is(r.decision!.model, `${'x'.repeat(2048)}…[1200000 chars]`);
  t.is(r.decision!.labels!.length, 32);
  t.is(r.decision!.labels![0], `${many[0]!.slice(0, 256)}…[${many[0]!.length} chars]`);
});
