import test from 'ava';
import { SseDecoder } from '../../proxy/src/stream/sse.js';
import { AwsEventStreamDecoder, encodeAwsEvent } from '../../proxy/src/stream/aws-event-stream.js';
import { chatChunkText } from '../../proxy/src/providers/openai/stream.js';
import { converseEventText } from '../../proxy/src/providers/bedrock/stream.js';
import { StreamDecodeError } from '../../proxy/src/stream/decoder.js';

const enc = new TextEncoder();

test('SSE events split at any byte boundary (inside a UTF-8 character too) decode whole', (t) => {
  const event = `data: ${JSON.stringify({ choices: [{ delta: { content: 'héllo 🌍' } }] })}\n\n`;
  const bytes = enc.encode(event + 'data: [DONE]\n\n');
  for (let cut = 1; cut < bytes.length; cut += 7) {
    const d = new SseDecoder(chatChunkText);
    const events = [...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut)), ...d.end()];
    t.is(events.length, 2);
    t.is(events[0]!.text, 'héllo 🌍');
    t.is(events[1]!.text, '');
  }
});

test('SSE data that is not JSON is a decode error, not a crash', (t) => {
  const d = new SseDecoder(chatChunkText);
  t.throws(() => d.push(enc.encode('data: {not json\n\n')), { instanceOf: StreamDecodeError });
});

test('AWS event-stream frames split across chunks decode, CRC damage is refused', (t) => {
  const a = encodeAwsEvent('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'abc' } });
  const b = encodeAwsEvent('event', 'messageStop', { stopReason: 'end_turn' });
  const all = Buffer.concat([a, b]);
  const d = new AwsEventStreamDecoder(converseEventText);
  const events = [...d.push(all.subarray(0, 10)), ...d.push(all.subarray(10, a.length + 3)), ...d.push(all.subarray(a.length + 3)), ...d.end()];
  t.deepEqual(events.map((e) => e.text), ['abc', '']);
  t.deepEqual(Buffer.from(events[0]!.raw as Uint8Array), Buffer.from(a));
  const damaged = Buffer.from(a);
  damaged.writeUInt8(damaged.readUInt8(damaged.length - 6) ^ 0xff, damaged.length - 6);
  t.throws(() => new AwsEventStreamDecoder(converseEventText).push(damaged), { instanceOf: StreamDecodeError });
  const truncated = new AwsEventStreamDecoder(converseEventText);
  t.deepEqual(truncated.push(a.subarray(0, 20)), []);
  t.throws(() => truncated.end(), { instanceOf: StreamDecodeError, message: /ended inside a frame/ });
});
