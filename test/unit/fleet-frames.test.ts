import test from 'ava';
import { FrameDecoder, FrameError, FrameSequence, MAX_FRAME_BYTES, encodeFrame } from '../../agent/src/fleet/frames.js';

const delta = (seq: number, version: number) => ({ stream_id: 's-1', seq, delta: { change: { version, kind: 'kill_switch', op: 'put', payload: Buffer.from('{"scope":"global"}'), committed_at: 1 } } });

test('frames cut at every byte boundary come out whole and in order', (t) => {
  const wire = Buffer.concat([encodeFrame(delta(1, 10)), encodeFrame({ stream_id: 's-1', seq: 2, heartbeat: { at: 5, applied_version: 10 } }), encodeFrame(delta(3, 11))]);
  for (let cut = 1; cut < wire.length; cut++) {
    const d = new FrameDecoder();
    const frames = [...d.push(wire.subarray(0, cut)), ...d.push(wire.subarray(cut))];
    t.deepEqual(
      frames.map((f) => [f.seq, f.body]),
      [
        [1, 'delta'],
        [2, 'heartbeat'],
        [3, 'delta'],
      ],
      `cut at ${cut}`,
    );
    t.is(d.incompleteBytes, 0);
  }
});

test('a byte at a time works too, and a cut frame at the end is visible', (t) => {
  const wire = encodeFrame(delta(1, 42));
  const d = new FrameDecoder();
  const frames = [];
  for (let i = 0; i < wire.length - 1; i++) frames.push(...d.push(wire.subarray(i, i + 1)));
  t.deepEqual(frames, []);
  t.is(d.incompleteBytes, wire.length - 1);
  const [last] = d.push(wire.subarray(wire.length - 1));
  t.is((last as any).delta.change.version, 42);
  t.is(JSON.parse((last as any).delta.change.payload.toString()).scope, 'global');
});

test('an oversized length, bytes that are not a frame, and an empty frame are refused with ALT_FLEET_FRAME_INVALID', (t) => {
  const huge = Buffer.alloc(4);
  huge.writeUInt32BE(MAX_FRAME_BYTES + 1);
  const oversize = t.throws(() => new FrameDecoder().push(huge), { instanceOf: FrameError });
  t.is(oversize.code, 'ALT_FLEET_FRAME_INVALID');
  const junk = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([0xff, 0xff, 0xff])]);
  t.throws(() => new FrameDecoder().push(junk), { instanceOf: FrameError, message: /not a FleetFrame/ });
  const empty = encodeFrame({ stream_id: 's-1', seq: 1 });
  t.throws(() => new FrameDecoder().push(empty), { instanceOf: FrameError, message: /no body/ });
});

test('a sequence accepts its own frames in order and refuses one replayed, out of order, or from another stream', (t) => {
  const sender = new FrameSequence('s-1');
  const receiver = new FrameSequence('s-1');
  const decode = (f: Record<string, unknown>) => new FrameDecoder().push(encodeFrame(f as never))[0]!;
  const first = decode({ ...sender.stamp(), heartbeat: { at: 1 } });
  const second = decode({ ...sender.stamp(), heartbeat: { at: 2 } });
  receiver.accept(first);
  t.throws(() => receiver.accept(first), { instanceOf: FrameError, message: /again \(replayed\)/ });
  const fourth = decode({ stream_id: 's-1', seq: 4, heartbeat: { at: 4 } });
  t.throws(() => receiver.accept(fourth), { instanceOf: FrameError, message: /out of order/ });
  const foreign = decode({ stream_id: 's-2', seq: 2, heartbeat: { at: 2 } });
  t.throws(() => receiver.accept(foreign), { instanceOf: FrameError, message: /of stream "s-2"/ });
  t.notThrows(() => receiver.accept(second));
});
