import test from 'ava';
import { SseDecoder, formatSse } from '../../proxy/src/stream/sse.js';
import { AwsEventStreamDecoder, encodeAwsEvent } from '../../proxy/src/stream/aws-event-stream.js';
import { chatChunkText } from '../../proxy/src/providers/openai/stream.js';
import { chatChunkTools, chatCompletionTools, responsesEventTools } from '../../proxy/src/providers/openai/tools.js';
import { anthropicEventText } from '../../proxy/src/providers/anthropic/stream.js';
import { anthropicEventTools, anthropicMessageTools } from '../../proxy/src/providers/anthropic/tools.js';
import { geminiEventText } from '../../proxy/src/providers/gemini/stream.js';
import { geminiEventTools } from '../../proxy/src/providers/gemini/tools.js';
import { converseEventText } from '../../proxy/src/providers/bedrock/stream.js';
import { converseEventTools } from '../../proxy/src/providers/bedrock/tools.js';
import { callArguments, ToolCallTracker } from '../../proxy/src/contracts/tool-calls.js';
import type { StreamEvent } from '../../proxy/src/stream/decoder.js';

const enc = new TextEncoder();

/** Feeds decoded events to a tracker; returns [name, arguments, seq where it started, seq where it completed] per call. */
function assemble(events: StreamEvent[]): [string, unknown, number, number][] {
  const tracker = new ToolCallTracker();
  const out: [string, unknown, number, number][] = [];
  events.forEach((e, seq) => {
    if (!e.tools) return;
    for (const c of tracker.apply(e.tools, seq).completed) out.push([c.name, JSON.parse(JSON.stringify(callArguments(c))), c.startSeq, seq]);
  });
  for (const c of tracker.completeAll()) out.push([c.name, callArguments(c), c.startSeq, -1]);
  return out;
}

const sse = (data: unknown, event?: string) => formatSse(event, JSON.stringify(data));

test('OpenAI chat: two parallel calls assemble from their pieces; finish_reason completes both', (t) => {
  const chunk = (delta: object, finish: string | null = null) => sse({ choices: [{ index: 0, delta, finish_reason: finish }] });
  const d = new SseDecoder(chatChunkText, null, chatChunkTools);
  const events = d.push(
    enc.encode(
      chunk({ role: 'assistant' }) +
        chunk({ tool_calls: [{ index: 0, id: 'c1', function: { name: 'lookup_order', arguments: '' } }] }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: '{"order_id":' } }] }) +
        chunk({ tool_calls: [{ index: 1, id: 'c2', function: { name: 'send_email', arguments: '{"to":"a"}' } }] }) +
        chunk({ tool_calls: [{ index: 0, function: { arguments: '"A-1"}' } }] }) +
        chunk({}, 'tool_calls'),
    ),
  );
  t.deepEqual(assemble(events), [
    ['lookup_order', '{"order_id":"A-1"}', 1, 5],
    ['send_email', '{"to":"a"}', 3, 5],
  ]);
  t.deepEqual(chatCompletionTools({ choices: [{ message: { tool_calls: [{ id: 'x', function: { name: 'f', arguments: '{}' } }] } }] }), [{ key: '0.0', id: 'x', name: 'f', args: '{}', done: true }]);
});

test('OpenAI Responses: function_call items assemble from argument deltas and end at output_item.done', (t) => {
  const d = new SseDecoder(() => '', null, responsesEventTools);
  const ev = (type: string, extra: object) => sse({ type, ...extra }, type);
  const events = d.push(
    enc.encode(
      ev('response.output_item.added', { output_index: 1, item: { type: 'function_call', call_id: 'c', name: 'issue_refund', arguments: '' } }) +
        ev('response.function_call_arguments.delta', { output_index: 1, delta: '{"a":' }) +
        ev('response.function_call_arguments.delta', { output_index: 1, delta: '1}' }) +
        ev('response.output_item.done', { output_index: 1, item: { type: 'function_call' } }),
    ),
  );
  t.deepEqual(assemble(events), [['issue_refund', '{"a":1}', 0, 3]]);
});

test('Anthropic: tool_use blocks assemble from input_json_delta and end at content_block_stop; text blocks are not calls', (t) => {
  const d = new SseDecoder(anthropicEventText, null, anthropicEventTools);
  const events = d.push(
    enc.encode(
      sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start') +
        sse({ type: 'content_block_stop', index: 0 }, 'content_block_stop') +
        sse({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'tu', name: 'delete_account', input: {} } }, 'content_block_start') +
        sse({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"id":' } }, 'content_block_delta') +
        sse({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '3}' } }, 'content_block_delta') +
        sse({ type: 'content_block_stop', index: 1 }, 'content_block_stop'),
    ),
  );
  t.deepEqual(assemble(events), [['delete_account', '{"id":3}', 2, 5]]);
  t.deepEqual(anthropicMessageTools({ content: [{ type: 'text', text: 'x' }, { type: 'tool_use', id: 'i', name: 'n', input: { a: 1 } }] }), [
    { key: 'a1', id: 'i', name: 'n', input: { a: 1 }, done: true },
  ]);
});

test('Gemini: a functionCall arrives whole in one event', (t) => {
  const d = new SseDecoder(geminiEventText, null, geminiEventTools);
  const events = d.push(enc.encode(sse({ candidates: [{ content: { parts: [{ text: 'ok' }, { functionCall: { name: 'purge', args: { all: true } } }] } }] })));
  t.deepEqual(assemble(events), [['purge', { all: true }, 0, 0]]);
});

test('Bedrock ConverseStream: toolUse blocks assemble from contentBlockDelta and end at contentBlockStop', (t) => {
  const d = new AwsEventStreamDecoder(converseEventText, null, converseEventTools);
  const frames = Buffer.concat([
    encodeAwsEvent('event', 'contentBlockStart', { contentBlockIndex: 2, start: { toolUse: { toolUseId: 't', name: 'issue_refund' } } }),
    encodeAwsEvent('event', 'contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{"order_id"' } } }),
    encodeAwsEvent('event', 'contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: ':"9"}' } } }),
    encodeAwsEvent('event', 'contentBlockStop', { contentBlockIndex: 2 }),
  ]);
  t.deepEqual(assemble(d.push(frames)), [['issue_refund', '{"order_id":"9"}', 0, 3]]);
});

test('a stream that ends inside a call: the tracker hands over what arrived', (t) => {
  const tracker = new ToolCallTracker();
  tracker.apply([{ key: 'a0', name: 'x', args: '{"a"' }], 0);
  const left = tracker.completeAll();
  t.is(left.length, 1);
  t.is(left[0]!.argsText, '{"a"');
});
