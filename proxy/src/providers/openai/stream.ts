import { isRecord, str } from '../adapter.js';
import { SSE_DONE } from '../../stream/sse.js';
import { contentText } from './parse.js';

/** A chat completions stream (OpenAI, Azure, OpenAI-compatible servers) ends with [DONE], or with an error event. */
export function chatChunkTerminal(_event: string | undefined, data: unknown): boolean {
  return data === SSE_DONE || (isRecord(data) && data.error !== undefined);
}

const RESPONSES_FINAL: ReadonlySet<string> = new Set(['response.completed', 'response.incomplete', 'response.failed', 'error']);

/** A Responses API stream ends with the response's final state, or with an error event. */
export function responsesEventTerminal(event: string | undefined, data: unknown): boolean {
  return RESPONSES_FINAL.has(event ?? (isRecord(data) ? str(data.type) : ''));
}

function toolArgs(calls: unknown): string {
  if (!Array.isArray(calls)) return '';
  let out = '';
  for (const c of calls) {
    if (!isRecord(c) || !isRecord(c.function)) continue;
    out += str(c.function.name) + str(c.function.arguments);
  }
  return out;
}

/** Text of one chat.completion.chunk. */
export function chatChunkText(_event: string | undefined, data: unknown): string {
  if (!isRecord(data) || !Array.isArray(data.choices)) return '';
  let out = '';
  for (const choice of data.choices) {
    if (!isRecord(choice) || !isRecord(choice.delta)) continue;
    out += str(choice.delta.content) + str(choice.delta.refusal) + toolArgs(choice.delta.tool_calls);
  }
  return out;
}

/**
 * Text of one Responses API stream event. Only deltas carry text: the closing events
 * (output_text.done, response.completed) repeat what the deltas already delivered.
 */
export function responsesEventText(event: string | undefined, data: unknown): string {
  if (!isRecord(data)) return '';
  const type = event ?? str(data.type);
  if (type === 'response.output_text.delta' || type === 'response.function_call_arguments.delta' || type === 'response.refusal.delta') {
    return str(data.delta);
  }
  return '';
}

export function chatCompletionText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.choices)) return '';
  let out = '';
  for (const choice of body.choices) {
    if (!isRecord(choice) || !isRecord(choice.message)) continue;
    out += contentText(choice.message.content) + str(choice.message.refusal) + toolArgs(choice.message.tool_calls);
  }
  return out;
}

export function responseObjectText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.output)) return '';
  let out = '';
  for (const item of body.output) {
    if (!isRecord(item)) continue;
    if (item.type === 'function_call') out += str(item.name) + str(item.arguments);
    else out += contentText(item.content);
  }
  return out;
}

/**
 * A chat.completion.chunk whose text is one content delta, with `text` in its place; else null
 * (also when it carries logprobs: their tokens spell the text out again).
 */
export function chatChunkRetext(_event: string | undefined, data: unknown, text: string): unknown {
  if (!isRecord(data) || !Array.isArray(data.choices) || data.choices.length !== 1) return null;
  const choice = data.choices[0];
  if (!isRecord(choice) || (choice.logprobs !== undefined && choice.logprobs !== null)) return null;
  const delta = choice.delta;
  if (!isRecord(delta) || typeof delta.content !== 'string' || str(delta.refusal) !== '' || toolArgs(delta.tool_calls) !== '') return null;
  delta.content = text;
  return data;
}
