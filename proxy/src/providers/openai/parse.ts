import { emptyCall, gatherTools, type CallView, type MessageView, type Operation, type ProviderKind } from '../../core/call-view.js';
import { isRecord, num, str } from '../adapter.js';

/** Text of an OpenAI content value: a string or an array of parts. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let out = '';
  for (const part of content) {
    if (isRecord(part) && typeof part.text === 'string') out += (out ? '\n' : '') + part.text;
  }
  return out;
}

function chatMessage(m: Record<string, unknown>): MessageView {
  const view: MessageView = { role: str(m.role), text: contentText(m.content), toolCalls: [], toolResults: [] };
  if (Array.isArray(m.tool_calls)) {
    for (const c of m.tool_calls) {
      if (!isRecord(c) || !isRecord(c.function)) continue;
      view.toolCalls.push({ id: str(c.id), name: str(c.function.name), arguments: c.function.arguments });
    }
  }
  if (view.role === 'tool') view.toolResults.push({ id: str(m.tool_call_id), content: view.text });
  return view;
}

function parseChat(call: CallView, b: Record<string, unknown>): string | null {
  if (!Array.isArray(b.messages)) return 'messages must be an array';
  for (let i = 0; i < b.messages.length; i++) {
    const m: unknown = b.messages[i];
    if (!isRecord(m) || typeof m.role !== 'string') return `messages[${i}] must be an object with a string role`;
    const view = chatMessage(m);
    if (view.role === 'system' || view.role === 'developer') call.system += (call.system ? '\n' : '') + view.text;
    call.messages.push(view);
  }
  if (Array.isArray(b.tools)) {
    for (const t of b.tools) if (isRecord(t) && isRecord(t.function)) call.tools.push({ name: str(t.function.name), schema: t.function.parameters });
  }
  call.maxTokens = num(b.max_completion_tokens) ?? num(b.max_tokens);
  return null;
}

function responsesItem(item: unknown): MessageView | null {
  if (typeof item === 'string') return { role: 'user', text: item, toolCalls: [], toolResults: [] };
  if (!isRecord(item)) return null;
  if (item.type === 'function_call') {
    return { role: 'assistant', text: '', toolCalls: [{ id: str(item.call_id), name: str(item.name), arguments: item.arguments }], toolResults: [] };
  }
  if (item.type === 'function_call_output') {
    const output = typeof item.output === 'string' ? item.output : JSON.stringify(item.output ?? '');
    return { role: 'tool', text: output, toolCalls: [], toolResults: [{ id: str(item.call_id), content: output }] };
  }
  return { role: str(item.role) || 'user', text: contentText(item.content), toolCalls: [], toolResults: [] };
}

function parseResponses(call: CallView, b: Record<string, unknown>): string | null {
  if (typeof b.input === 'string') call.messages.push({ role: 'user', text: b.input, toolCalls: [], toolResults: [] });
  else if (Array.isArray(b.input)) {
    for (const item of b.input) {
      const view = responsesItem(item);
      if (view) call.messages.push(view);
    }
  } else if (b.input !== undefined) return 'input must be a string or an array';
  call.system = str(b.instructions);
  if (Array.isArray(b.tools)) for (const t of b.tools) if (isRecord(t)) call.tools.push({ name: str(t.name) || str(t.type), schema: t.parameters });
  call.maxTokens = num(b.max_output_tokens);
  return null;
}

function parseEmbeddings(call: CallView, b: Record<string, unknown>): string | null {
  const input = b.input;
  if (typeof input === 'string') call.messages.push({ role: 'user', text: input, toolCalls: [], toolResults: [] });
  else if (Array.isArray(input)) {
    for (const x of input) if (typeof x === 'string') call.messages.push({ role: 'user', text: x, toolCalls: [], toolResults: [] });
  } else return 'input must be a string or an array';
  return null;
}

export function parseOpenAi(provider: ProviderKind, upstream: string, op: Operation, body: unknown, modelOverride?: string): CallView | string {
  const call = emptyCall(provider, upstream, op);
  if (op === 'models') return call;
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (body.model !== undefined && typeof body.model !== 'string') return 'model must be a string';
  call.model = modelOverride ?? (typeof body.model === 'string' && body.model !== '' ? body.model : null);
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'stream must be a boolean';
  // Embeddings never stream: a stray flag must not make their JSON answer look like a broken stream.
  call.stream = body.stream === true && op !== 'embeddings';
  const err = op === 'chat' ? parseChat(call, body) : op === 'responses' ? parseResponses(call, body) : parseEmbeddings(call, body);
  return err ?? gatherTools(call);
}
