import { emptyCall, gatherTools, type CallView, type MessageView } from '../../core/call-view.js';
import { isRecord, num, str } from '../adapter.js';

function partsView(role: string, parts: unknown): MessageView {
  const view: MessageView = { role, text: '', toolCalls: [], toolResults: [] };
  if (!Array.isArray(parts)) return view;
  for (const p of parts) {
    if (!isRecord(p)) continue;
    if (typeof p.text === 'string') view.text += (view.text ? '\n' : '') + p.text;
    if (isRecord(p.functionCall)) view.toolCalls.push({ id: str(p.functionCall.id), name: str(p.functionCall.name), arguments: p.functionCall.args });
    if (isRecord(p.functionResponse)) {
      view.toolResults.push({ id: str(p.functionResponse.id), name: str(p.functionResponse.name), content: JSON.stringify(p.functionResponse.response ?? null) });
    }
  }
  return view;
}

export function parseGemini(model: string, action: string, body: unknown): CallView | string {
  const call = emptyCall('gemini', 'gemini', action === 'countTokens' ? 'count_tokens' : 'generate');
  call.model = model || null;
  call.stream = action === 'streamGenerateContent';
  if (!isRecord(body)) return 'the body must be a JSON object';
  if (body.contents !== undefined && !Array.isArray(body.contents)) return 'contents must be an array';
  const contents = Array.isArray(body.contents) ? body.contents : [];
  for (let i = 0; i < contents.length; i++) {
    const c: unknown = contents[i];
    if (!isRecord(c)) return `contents[${i}] must be an object`;
    call.messages.push(partsView(str(c.role) || 'user', c.parts));
  }
  if (isRecord(body.systemInstruction)) call.system = partsView('system', body.systemInstruction.parts).text;
  if (Array.isArray(body.tools)) {
    for (const t of body.tools) {
      if (!isRecord(t) || !Array.isArray(t.functionDeclarations)) continue;
      for (const f of t.functionDeclarations) if (isRecord(f)) call.tools.push({ name: str(f.name), schema: f.parameters ?? f.parametersJsonSchema });
    }
  }
  if (isRecord(body.generationConfig)) call.maxTokens = num(body.generationConfig.maxOutputTokens);
  return gatherTools(call);
}
