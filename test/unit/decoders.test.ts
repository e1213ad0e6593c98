import test from 'ava';
import { SseDecoder } from '../../proxy/src/stream/sse.js';
import { AwsEventStreamDecoder, encodeAwsEvent, type AwsEvent } from '../../proxy/src/stream/aws-event-stream.js';
import { chatChunkText } from '../../proxy/src/providers/openai/stream.js';
import { converseEventRetext, converseEventText, invokeChunkRetext, invokeChunkText } from '../../proxy/src/providers/bedrock/stream.js';
import { geminiEventRetext, geminiResponseText } from '../../proxy/src/providers/gemini/stream.js';
import { StreamDecodeError, StreamEndedEarly } from '../../proxy/src/stream/decoder.js';

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
  t.throws(() => truncated.end(), { instanceOf: StreamEndedEarly, message: /ended inside a frame/ });
});

test('text that repeats the answer elsewhere is scanned, and such events are never rewritten (a mask would leave the copy)', (t) => {
  const aws = (type: string, payload: unknown): AwsEvent => ({ messageType: 'event', eventType: type, payload: enc.encode(JSON.stringify(payload)) });
  // A Bedrock guardrail trace repeats the model output.
  const metadata = aws('metadata', { usage: { inputTokens: 1 }, trace: { guardrail: { modelOutput: ['mail ana.lopez@corp.example'] } } });
  t.regex(converseEventText(metadata), /ana\.lopez@corp\.example/);
  t.is(converseEventRetext(metadata, 'x'), null);
  const delta = aws('contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'mail ana' }, p: 'abc' });
  t.deepEqual(JSON.parse(new TextDecoder().decode(converseEventRetext(delta, 'mail [REDACTED:pii.email]')!)), { contentBlockIndex: 0, delta: { text: 'mail [REDACTED:pii.email]' }, p: 'abc' });
  const chunk = (inner: unknown) => aws('chunk', { bytes: Buffer.from(JSON.stringify(inner)).toString('base64') });
  const traced = chunk({ type: 'content_block_delta', delta: { type: 'text_delta', text: 'x' }, 'amazon-bedrock-trace': { guardrail: { output: [{ match: 'ana.lopez@corp.example' }] } } });
  t.regex(invokeChunkText(traced), /ana\.lopez@corp\.example/);
  t.is(invokeChunkRetext(traced, 'y'), null);
  // Gemini grounding supports quote the answer.
  const grounded = { candidates: [{ content: { parts: [{ text: 'mail ana' }] }, groundingMetadata: { groundingSupports: [{ segment: { text: 'mail ana.lopez@corp.example' } }] } }] };
  t.regex(geminiResponseText(grounded), /ana\.lopez@corp\.example/);
  t.is(geminiEventRetext(undefined, grounded, 'z'), null);
  t.regex(geminiResponseText({ candidates: [{ groundingMetadata: { groundingSupports: [{ segment: { text: 'quoted alone' } }] } }] }), /quoted alone/, 'also on a chunk without content');
});

test('regression: an SSE event or an AWS event-stream payload nested past the upstream depth bound is a decode error, not a stack overflow', (t) => {
  const deep = '['.repeat(2000) + ']'.repeat(2000);
  const sse = new SseDecoder(chatChunkText);
  const e1 = t.throws(() => sse.push(enc.encode(`data: {"choices":[{"delta":{"content":${deep}}}]}\n\n`)), { instanceOf: StreamDecodeError });
  t.regex(e1.message, /more than 1024 levels deep/);
  const aws = new AwsEventStreamDecoder(converseEventText);
  const frame = encodeAwsEvent('event', 'metadata', { trace: JSON.parse(deep) as unknown });
  const e2 = t.throws(() => aws.push(frame), { instanceOf: StreamDecodeError });
  t.regex(e2.message, /more than 1024 levels deep/);
  // Within the bound, the same shapes decode.
  const fine = '['.repeat(1000) + ']'.repeat(1000);
  t.is(new SseDecoder(chatChunkText).push(enc.encode(`data: {"choices":[{"delta":{"content":"ok"}}],"x":${fine}}\n\n`))[0]!.text, 'ok');
});
