import { emptyCall, gatherTools, type CallView, type MessageView } from '../../core/call-view.js';
import { isRecord, num, str } from '../adapter.js';
import { parseAnthropic } from '../anthropic/parse.js';

function blockText(blocks: unknown): string {
  if (!Array.isArray(blocks)) return '';
  let out = '';
  for (const b of blocks) {
    if (!isRecord(b)) continue;
    if (typeof b.text === 'string') out += (out ? '\n' : '') + b.text;
    else if (b.json !== undefined) out += (out ? '\n' : '') + JSON.stringify(b.json);
  }
  return out;
}

function converseMessage(m: Record<string, unknown>): MessageView {
  const view: MessageView = { role: str(m.role), text: blockText(m.content), toolCalls: [], toolResults: [] };
  if (Array.isArray(m.content)) {
    for (const b of m.content) {
      if (!isRecord(b)) continue;
      if (isRecord(b.toolUse)) view.toolCalls.push({ id: str(b.toolUse.toolUseId), name: str(b.toolUse.name), arguments: b.toolUse.input });
      if (isRecord(b.toolResult)) view.toolResults.push({ id: str(b.toolResult.toolUseId), content: blockText(b.toolResult.content), error: b.toolResult.status === 'error' });
    }
  }
  return view;
}

export function parseConverse(modelId: string, stream: boolean, body: unknown): CallView | string {
  const call = emptyCall('bedrock', 'bedrock', 'converse');
  call.model = modelId || null;
  call.stream = stream;
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (body.messages !== undefined && !Array.isArray(body.messages)) return 'messages must be an array';
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (let i = 0; i < messages.length; i++) {
    const m: unknown = messages[i];
    if (!isRecord(m) || typeof m.role !== 'string') return `messages[${i}] must be an object with a string role`;
    call.messages.push(converseMessage(m));
  }
  call.system = blockText(body.system);
  if (isRecord(body.toolConfig) && Array.isArray(body.toolConfig.tools)) {
    for (const t of body.toolConfig.tools) if (isRecord(t) && isRecord(t.toolSpec)) call.tools.push({ name: str(t.toolSpec.name), schema: isRecord(t.toolSpec.inputSchema) ? t.toolSpec.inputSchema.json : undefined });
  }
  if (isRecord(body.inferenceConfig)) call.maxTokens = num(body.inferenceConfig.maxTokens);
  return gatherTools(call);
}

/** InvokeModel bodies are the model family's own format: Anthropic messages, or a plain prompt. */
export function parseInvoke(modelId: string, stream: boolean, body: unknown): CallView | string {
  if (isRecord(body) && Array.isArray(body.messages)) {
    const call = parseAnthropic('bedrock', 'bedrock', 'invoke', body, modelId);
    if (typeof call !== 'string') call.stream = stream;
    return call;
  }
  const call = emptyCall('bedrock', 'bedrock', 'invoke');
  call.model = modelId || null;
  call.stream = stream;
  if (!isRecord(body)) return 'the body must be a JSON object';
  const prompt = str(body.inputText) || str(body.prompt);
  call.messages.push({ role: 'user', text: prompt, toolCalls: [], toolResults: [] });
  const cfg = isRecord(body.textGenerationConfig) ? body.textGenerationConfig : {};
  call.maxTokens = num(body.max_tokens) ?? num(body.max_gen_len) ?? num(cfg.maxTokenCount);
  return call;
}
