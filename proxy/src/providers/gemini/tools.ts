import { isRecord, str } from '../adapter.js';
import type { ToolDelta } from '../../core/fragment.js';

/** functionCall parts of a GenerateContentResponse: Gemini sends each call whole. */
export function geminiResponseTools(body: unknown): ToolDelta[] {
  if (!isRecord(body) || !Array.isArray(body.candidates)) return [];
  const out: ToolDelta[] = [];
  for (const [ci, c] of body.candidates.entries()) {
    if (!isRecord(c) || !isRecord(c.content) || !Array.isArray(c.content.parts)) continue;
    for (const [pi, p] of c.content.parts.entries()) {
      if (!isRecord(p) || !isRecord(p.functionCall)) continue;
      const f = p.functionCall;
      out.push({ key: `g${ci}.${pi}`, id: str(f.id) || undefined, name: str(f.name), input: f.args ?? {}, done: true });
    }
  }
  return out;
}

export function geminiEventTools(_event: string | undefined, data: unknown): ToolDelta[] | null {
  const tools = geminiResponseTools(data);
  return tools.length ? tools : null;
}
