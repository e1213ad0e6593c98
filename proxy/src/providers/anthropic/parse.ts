import { emptyCall, gatherTools, type CallView, type MessageView, type Operation, type ProviderKind } from '../../core/call-view.js';
import { isRecord, num, str } from '../adapter.js';

function blocksText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const b of content) if (isRecord(b) && b.type === 'text') out += (out ? '\n' : '') + str(b.text);
  return out;
}

function message(m: Record<string, unknown>): MessageView {
  const view: MessageView = { role: str(m.role), text: blocksText(m.content), toolCalls: [], toolResults: [] };
  if (Array.isArray(m.content)) {
    for (const b of m.content) {
      if (!isRecord(b)) continue;
      if (b.type === 'tool_use') view.toolCalls.push({ id: str(b.id), name: str(b.name), arguments: b.input });
      if (b.type === 'tool_result') view.toolResults.push({ id: str(b.tool_use_id), content: blocksText(b.content), error: b.is_error === true });
    }
  }
  return view;
}

/** Anthropic Messages (also the body of Anthropic models invoked through Bedrock). */
export function parseAnthropic(provider: ProviderKind, upstream: string, op: Operation, body: unknown, modelOverride?: string): CallView | string {
  const call = emptyCall(provider, upstream, op);
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (modelOverride === undefined && body.model !== undefined && typeof body.model !== 'string') return 'model must be a string';
  call.model = modelOverride ?? (typeof body.model === 'string' && body.model !== '' ? body.model : null);
  if (!Array.isArray(body.messages)) return 'messages must be an array';
  for (let i = 0; i < body.messages.length; i++) {
    const m: unknown = body.messages[i];
    if (!isRecord(m) || typeof m.role !== 'string') return `messages[${i}] must be an object with a string role`;
    call.messages.push(message(m));
  }
  call.system = blocksText(body.system);
  if (Array.isArray(body.tools)) for (const t of body.tools) if (isRecord(t)) call.tools.push({ name: str(t.name), schema: t.input_schema });
  call.maxTokens = num(body.max_tokens);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'stream must be a boolean';
  // count_tokens never streams: a stray flag must not make its JSON answer look like a broken stream.
  call.stream = body.stream === true && op !== 'count_tokens';
  return gatherTools(call);
}
