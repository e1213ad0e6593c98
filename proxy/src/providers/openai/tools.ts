import { isRecord, num, str } from '../adapter.js';
import type { ToolDelta } from '../../core/fragment.js';

function opt(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Tool-call pieces of one chat.completion.chunk; a finish_reason completes the choice's calls. */
export function chatChunkTools(_event: string | undefined, data: unknown): ToolDelta[] | null {
  if (!isRecord(data) || !Array.isArray(data.choices)) return null;
  let out: ToolDelta[] | null = null;
  for (const choice of data.choices) {
    if (!isRecord(choice)) continue;
    const ci = num(choice.index) ?? 0;
    if (isRecord(choice.delta) && Array.isArray(choice.delta.tool_calls)) {
      for (const c of choice.delta.tool_calls) {
        if (!isRecord(c)) continue;
        const f = isRecord(c.function) ? c.function : {};
        (out ??= []).push({ key: `${ci}.${num(c.index) ?? 0}`, id: opt(c.id), name: opt(f.name), args: opt(f.arguments) });
      }
    }
    if (typeof choice.finish_reason === 'string') (out ??= []).push({ key: `${ci}.*`, done: true });
  }
  return out;
}

/** Tool-call pieces of one Responses API stream event. */
export function responsesEventTools(event: string | undefined, data: unknown): ToolDelta[] | null {
  if (!isRecord(data)) return null;
  const type = event ?? str(data.type);
  const key = `r${num(data.output_index) ?? 0}`;
  if (type === 'response.output_item.added' && isRecord(data.item) && data.item.type === 'function_call') {
    return [{ key, id: opt(data.item.call_id), name: str(data.item.name), args: opt(data.item.arguments) }];
  }
  if (type === 'response.function_call_arguments.delta') return [{ key, args: str(data.delta) }];
  if (type === 'response.output_item.done' && isRecord(data.item) && data.item.type === 'function_call') return [{ key, done: true }];
  return null;
}

export function chatCompletionTools(body: unknown): ToolDelta[] {
  if (!isRecord(body) || !Array.isArray(body.choices)) return [];
  const out: ToolDelta[] = [];
  for (const [ci, choice] of body.choices.entries()) {
    if (!isRecord(choice) || !isRecord(choice.message) || !Array.isArray(choice.message.tool_calls)) continue;
    for (const [i, c] of choice.message.tool_calls.entries()) {
      if (!isRecord(c) || !isRecord(c.function)) continue;
      out.push({ key: `${ci}.${i}`, id: opt(c.id), name: str(c.function.name), args: str(c.function.arguments), done: true });
    }
  }
  return out;
}

export function responseObjectTools(body: unknown): ToolDelta[] {
  if (!isRecord(body) || !Array.isArray(body.output)) return [];
  const out: ToolDelta[] = [];
  for (const [i, item] of body.output.entries()) {
    if (isRecord(item) && item.type === 'function_call') out.push({ key: `r${i}`, id: opt(item.call_id), name: str(item.name), args: str(item.arguments), done: true });
  }
  return out;
}
