import { isRecord, num, str } from '../adapter.js';
import { anthropicEventTools, anthropicMessageTools } from '../anthropic/tools.js';
import type { ToolDelta } from '../../core/fragment.js';
import type { AwsEvent } from '../../stream/aws-event-stream.js';
import { invokeInner, json } from './stream.js';

/** toolUse pieces of a ConverseStream event: contentBlockStart (name), contentBlockDelta (input), contentBlockStop. */
export function converseEventTools(e: AwsEvent): ToolDelta[] | null {
  if (e.messageType !== 'event' || !e.eventType.startsWith('contentBlock')) return null;
  const p = json(e.payload);
  if (!isRecord(p)) return null;
  const key = `b${num(p.contentBlockIndex) ?? 0}`;
  if (e.eventType === 'contentBlockStart' && isRecord(p.start) && isRecord(p.start.toolUse)) {
    return [{ key, id: str(p.start.toolUse.toolUseId), name: str(p.start.toolUse.name) }];
  }
  if (e.eventType === 'contentBlockDelta' && isRecord(p.delta) && isRecord(p.delta.toolUse)) return [{ key, args: str(p.delta.toolUse.input) }];
  if (e.eventType === 'contentBlockStop') return [{ key, done: true }];
  return null;
}

export function converseResponseTools(body: unknown): ToolDelta[] {
  if (!isRecord(body) || !isRecord(body.output) || !isRecord(body.output.message) || !Array.isArray(body.output.message.content)) return [];
  const out: ToolDelta[] = [];
  for (const [i, b] of body.output.message.content.entries()) {
    if (isRecord(b) && isRecord(b.toolUse)) out.push({ key: `b${i}`, id: str(b.toolUse.toolUseId), name: str(b.toolUse.name), input: b.toolUse.input ?? {}, done: true });
  }
  return out;
}

/** InvokeModelWithResponseStream carries the model's own events: Anthropic's tool_use pieces. */
export function invokeChunkTools(e: AwsEvent): ToolDelta[] | null {
  const inner = invokeInner(e);
  return inner === null ? null : anthropicEventTools(undefined, inner);
}

export function invokeBodyTools(body: unknown): ToolDelta[] {
  return anthropicMessageTools(body);
}
