import test from 'ava';
import { loadProto } from '../../agent/src/audit/records.js';

const root = loadProto('altrace/v1/fleet.proto');
// Field names as written in the schema (snake_case), as loadProto keeps them.
const Frame = root.lookupType('altrace.v1.fleet.FleetFrame');

test('fleet.proto loads, and a delta frame round-trips with its change intact', (t) => {
  const payload = Buffer.from(JSON.stringify({ scope: 'agent', target: 'b-bot', reason: 'runaway' }));
  const frame = { stream_id: 's-1', seq: 7, delta: { change: { version: 42, kind: 'kill_switch', op: 'put', payload, committed_at: 1_796_500_000_000 } } };
  t.is(Frame.verify(frame), null);
  const decoded = Frame.toObject(Frame.decode(Frame.encode(Frame.fromObject(frame)).finish()), { longs: Number, bytes: Buffer, oneofs: true }) as any;
  t.is(decoded.body, 'delta');
  t.is(decoded.seq, 7);
  t.is(decoded.stream_id, 's-1');
  t.is(decoded.delta.change.committed_at, 1_796_500_000_000);
  t.is(decoded.delta.change.version, 42);
  t.deepEqual(JSON.parse(decoded.delta.change.payload.toString()), { scope: 'agent', target: 'b-bot', reason: 'runaway' });
});

test('a frame carries one body: setting a second replaces the first', (t) => {
  const m = Frame.fromObject({ stream_id: 's', seq: 1, hello: { node_id: 'n1', applied_version: 0 } }) as any;
  m.heartbeat = { at: 1, applied_version: 3 };
  m.body = 'heartbeat';
  const decoded = Frame.toObject(Frame.decode(Frame.encode(m).finish()), { oneofs: true, longs: Number }) as any;
  t.is(decoded.body, 'heartbeat');
  t.is(decoded.hello, undefined);
  t.is(decoded.heartbeat.applied_version, 3);
});
