import test from 'ava';
import { chainRecord, decodeRecord, encodeEvent, encodeRecord, packEvents, unpackEvents, type AuditEvent } from '../../agent/src/audit/records.js';

const events: AuditEvent[] = [
  { time: 1_764_700_000_000, principal: { key_id: 'k1', agent: 'a', team: 't' }, decision: { request_id: 'r1', provider: 'openai', outcome: 'block', reason: 'ALT_CONTENT_SECRET', labels: ['secret'], rules: ['openai-api-key'], cost_usd: 0.25 } },
  { time: 1_764_700_000_001, control: { operator: 'admin', action: 'KILL agent', target: 'a', status: 201 } },
  { time: 1_764_700_000_002, decision: { request_id: 'r2', outcome: 'allow', reason: 'ALT_ALLOWED' } },
];

// The writer chains events the agent encoded; the record must be the one encodeRecord would make.
test('an event encoded on the agent, chained by the writer, decodes to the same record', (t) => {
  const prev = Buffer.alloc(32, 7);
  for (const [i, e] of events.entries()) {
    const { time, ...rest } = e;
    t.deepEqual(decodeRecord(chainRecord(i, prev, encodeEvent(e))), decodeRecord(encodeRecord({ seq: i, time_unix_ms: time, prev_leaf_hash: prev, ...rest })));
  }
});

test('packed events unpack to the same bytes, in order; an empty batch packs to nothing', (t) => {
  const encoded = events.map(encodeEvent);
  t.deepEqual(unpackEvents(packEvents(encoded)).map((b) => Buffer.from(b)), encoded.map((b) => Buffer.from(b)));
  t.deepEqual(unpackEvents(packEvents([])), []);
});
