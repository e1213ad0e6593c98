import { isRecord, str } from '../adapter.js';

/** Text of one Messages stream event: text, tool input and thinking deltas, tool names. */
export function anthropicEventText(_event: string | undefined, data: unknown): string {
  if (!isRecord(data)) return '';
  if (data.type === 'content_block_delta' && isRecord(data.delta)) {
    const d = data.delta;
    return str(d.text) + str(d.partial_json) + str(d.thinking);
  }
  if (data.type === 'content_block_start' && isRecord(data.content_block)) {
    const b = data.content_block;
    return str(b.text) + str(b.name);
  }
  return '';
}

/** A Messages stream ends with message_stop, or with an error event. */
export function anthropicEventTerminal(event: string | undefined, data: unknown): boolean {
  if (event === 'error') return true;
  return isRecord(data) && (data.type === 'message_stop' || data.type === 'error');
}

export function anthropicMessageText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.content)) return '';
  let out = '';
  for (const b of body.content) {
    if (!isRecord(b)) continue;
    if (b.type === 'text') out += str(b.text);
    else if (b.type === 'tool_use') out += str(b.name) + JSON.stringify(b.input ?? {});
    else if (b.type === 'thinking') out += str(b.thinking);
  }
  return out;
}

/**
 * A Messages text delta (or a text block's start) with `text` in its place; else null. Thinking
 * is not rewritten: its block is signed, and the agent sends it back verbatim on the next turn.
 */
export function anthropicEventRetext(_event: string | undefined, data: unknown, text: string): unknown {
  if (!isRecord(data)) return null;
  if (data.type === 'content_block_delta' && isRecord(data.delta)) {
    if (data.delta.type !== 'text_delta') return null;
    data.delta.text = text;
    return data;
  }
  if (data.type === 'content_block_start' && isRecord(data.content_block) && data.content_block.type === 'text') {
    data.content_block.text = text;
    return data;
  }
  return null;
}
