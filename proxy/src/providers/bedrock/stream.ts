import { isRecord, str } from '../adapter.js';
import { anthropicEventRetext, anthropicEventText, anthropicMessageText } from '../anthropic/stream.js';
import type { AwsEvent } from '../../stream/aws-event-stream.js';
import { StreamDecodeError } from '../../stream/decoder.js';
import { jsonDeeperThan, MAX_UPSTREAM_JSON_DEPTH } from '../../core/json-depth.js';

const utf8 = new TextDecoder();

/** An event payload as JSON; null when it is not. One nested too deep to walk fails the stream (StreamDecodeError). */
export function json(bytes: Uint8Array): unknown {
  const text = utf8.decode(bytes);
  if (jsonDeeperThan(text, MAX_UPSTREAM_JSON_DEPTH)) throw new StreamDecodeError(`upstream event-stream payload nests arrays and objects more than ${MAX_UPSTREAM_JSON_DEPTH} levels deep`);
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Text of a ConverseStream event: text, tool input and reasoning deltas, tool names. */
export function converseEventText(e: AwsEvent): string {
  if (e.messageType !== 'event') return '';
  const p = json(e.payload);
  if (!isRecord(p)) return '';
  if (e.eventType === 'contentBlockDelta' && isRecord(p.delta)) {
    const d = p.delta;
    const tool = isRecord(d.toolUse) ? str(d.toolUse.input) : '';
    const reasoning = isRecord(d.reasoningContent) ? str(d.reasoningContent.text) : '';
    return str(d.text) + tool + reasoning;
  }
  if (e.eventType === 'contentBlockStart' && isRecord(p.start) && isRecord(p.start.toolUse)) return str(p.start.toolUse.name);
  // A guardrail trace repeats the model's output (and what it matched): it is content too.
  if (e.eventType === 'metadata' && p.trace !== undefined) return JSON.stringify(p.trace);
  return '';
}

/** Model-native text of a whole InvokeModel body (Anthropic messages, or a completion field). */
export function invokeBodyText(body: unknown): string {
  if (!isRecord(body)) return '';
  if (Array.isArray(body.content)) return anthropicMessageText(body);
  if (Array.isArray(body.results)) return body.results.map((r) => (isRecord(r) ? str(r.outputText) : '')).join('');
  return str(body.outputText) + str(body.generation) + str(body.completion);
}

// The text, the tool calls and the end check read the same chunk one after the other: decoded once.
let memoEvent: AwsEvent | null = null;
let memoInner: Record<string, unknown> | null = null;

/** The model's own event an InvokeModelWithResponseStream chunk carries (base64 JSON), or null. */
export function invokeInner(e: AwsEvent): Record<string, unknown> | null {
  if (e === memoEvent) return memoInner;
  let inner: Record<string, unknown> | null = null;
  if (e.messageType === 'event' && e.eventType === 'chunk') {
    const p = json(e.payload);
    if (isRecord(p) && typeof p.bytes === 'string') {
      const v = json(Buffer.from(p.bytes, 'base64'));
      if (isRecord(v)) inner = v;
    }
  }
  memoEvent = e;
  memoInner = inner;
  return inner;
}

/** A ConverseStream is complete at messageStop (metadata may follow), or at an exception. */
export function converseEventTerminal(e: AwsEvent): boolean {
  return e.messageType !== 'event' || e.eventType === 'messageStop';
}

/** Bedrock adds its invocation metrics to the last chunk of every model family's stream. */
const INVOCATION_METRICS = 'amazon-bedrock-invocationMetrics';

/** An InvokeModelWithResponseStream is complete at its last chunk (Anthropic's message_stop), or at an exception. */
export function invokeChunkTerminal(e: AwsEvent): boolean {
  if (e.messageType !== 'event') return true;
  const inner = invokeInner(e);
  return inner !== null && (inner.type === 'message_stop' || inner[INVOCATION_METRICS] !== undefined);
}

/** InvokeModelWithResponseStream: each chunk carries the model's own stream event, base64. */
export function invokeChunkText(e: AwsEvent): string {
  const inner = invokeInner(e);
  if (inner === null) return '';
  const trace = inner[INVOKE_TRACE] === undefined ? '' : JSON.stringify(inner[INVOKE_TRACE]);
  return anthropicEventText(undefined, inner) + str(inner.outputText) + str(inner.generation) + str(inner.completion) + trace;
}

/** Where InvokeModelWithResponseStream puts a guardrail trace (which repeats matched text). */
const INVOKE_TRACE = 'amazon-bedrock-trace';

const bytesOf = (v: unknown): Uint8Array => Buffer.from(JSON.stringify(v));

/** A ConverseStream text delta with `text` in its place; else null (tool input and reasoning are not rewritten). */
export function converseEventRetext(e: AwsEvent, text: string): Uint8Array | null {
  if (e.messageType !== 'event' || e.eventType !== 'contentBlockDelta') return null;
  const p = json(e.payload);
  if (!isRecord(p) || !isRecord(p.delta) || typeof p.delta.text !== 'string' || p.delta.toolUse !== undefined || p.delta.reasoningContent !== undefined) return null;
  p.delta.text = text;
  return bytesOf(p);
}

/** An InvokeModelWithResponseStream chunk whose model event carries its text in one field, with `text` there; else null. */
export function invokeChunkRetext(e: AwsEvent, text: string): Uint8Array | null {
  if (e.messageType !== 'event' || e.eventType !== 'chunk') return null;
  const p = json(e.payload);
  if (!isRecord(p) || typeof p.bytes !== 'string') return null;
  const inner = json(Buffer.from(p.bytes, 'base64'));
  if (!isRecord(inner) || inner[INVOKE_TRACE] !== undefined) return null;
  const changed = anthropicEventRetext(undefined, inner, text);
  if (changed === null) {
    const fields = ['outputText', 'generation', 'completion'].filter((k) => typeof inner[k] === 'string');
    if (fields.length !== 1 || anthropicEventText(undefined, inner) !== '') return null;
    inner[fields[0]!] = text;
  }
  p.bytes = Buffer.from(JSON.stringify(inner)).toString('base64');
  return bytesOf(p);
}

export function converseResponseText(body: unknown): string {
  if (!isRecord(body) || !isRecord(body.output) || !isRecord(body.output.message)) return '';
  const content = body.output.message.content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const b of content) {
    if (!isRecord(b)) continue;
    out += str(b.text);
    if (isRecord(b.toolUse)) out += str(b.toolUse.name) + JSON.stringify(b.toolUse.input ?? {});
  }
  return out;
}
