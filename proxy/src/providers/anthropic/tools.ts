import { isRecord, num, str } from '../adapter.js';
import type { ToolDelta } from '../../core/fragment.js';

/** Tool-use pieces of one Messages stream event: start (name), input_json_delta, stop. */
export function anthropicEventTools(_event: string | undefined, data: unknown): ToolDelta[] | null {
  if (!isRecord(data)) return null;
  const key = `a${num(data.index) ?? 0}`;
  if (data.type === 'content_block_start' && isRecord(data.content_block) && (data.content_block.type === 'tool_use' || data.content_block.type === 'server_tool_use')) {
    return [{ key, id: str(data.content_block.id), name: str(data.content_block.name) }];
  }
  if (data.type === 'content_block_delta' && isRecord(data.delta) && data.delta.type === 'input_json_delta') return [{ key, args: str(data.delta.partial_json) }];
  if (data.type === 'content_block_stop') return [{ key, done: true }];
  return null;
}

export function anthropicMessageTools(body: unknown): ToolDelta[] {
  if (!isRecord(body) || !Array.isArray(body.content)) return [];
  const out: ToolDelta[] = [];
  for (const [i, b] of body.content.entries()) {
    if (isRecord(b) && b.type === 'tool_use') out.push({ key: `a${i}`, id: str(b.id), name: str(b.name), input: b.input ?? {}, done: true });
  }
  return out;
}
