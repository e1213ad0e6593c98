import { isRecord, str } from '../adapter.js';
import type { StreamDecoder, StreamEvent } from '../../stream/decoder.js';
import { retextJson, type SseRetext } from '../../stream/sse.js';

/** Text of one GenerateContentResponse: candidate text parts, function calls, grounding quotes. */
export function geminiResponseText(body: unknown): string {
  if (!isRecord(body) || !Array.isArray(body.candidates)) return '';
  let out = '';
  for (const c of body.candidates) {
    if (!isRecord(c)) continue;
    if (isRecord(c.content) && Array.isArray(c.content.parts)) {
      for (const p of c.content.parts) {
        if (!isRecord(p)) continue;
        out += str(p.text);
        if (isRecord(p.functionCall)) out += str(p.functionCall.name) + JSON.stringify(p.functionCall.args ?? {});
      }
    }
    out += groundedText(c);
  }
  return out;
}

/** Grounding supports quote segments of the answer: the same text again, so it is scanned too. */
function groundedText(candidate: Record<string, unknown>): string {
  const g = candidate.groundingMetadata;
  if (!isRecord(g) || !Array.isArray(g.groundingSupports)) return '';
  let out = '';
  for (const s of g.groundingSupports) if (isRecord(s) && isRecord(s.segment)) out += '\n' + str(s.segment.text);
  return out;
}

/**
 * A streamGenerateContent stream has no end marker: its last chunk is the one that gives a
 * candidate its finishReason (or refuses the prompt, or is an error).
 */
export function geminiEventTerminal(_event: string | undefined, data: unknown): boolean {
  if (!isRecord(data)) return false;
  if (data.error !== undefined || (isRecord(data.promptFeedback) && data.promptFeedback.blockReason !== undefined)) return true;
  if (!Array.isArray(data.candidates)) return false;
  for (const c of data.candidates) if (isRecord(c) && typeof c.finishReason === 'string') return true;
  return false;
}

export function geminiEventText(_event: string | undefined, data: unknown): string {
  return geminiResponseText(data);
}

/** A response chunk whose text is one text part of one candidate (no logprobs), with `text` in its place; else null. */
export function geminiEventRetext(_event: string | undefined, data: unknown, text: string): unknown {
  if (!isRecord(data) || !Array.isArray(data.candidates) || data.candidates.length !== 1) return null;
  const c = data.candidates[0];
  if (!isRecord(c) || !isRecord(c.content) || !Array.isArray(c.content.parts) || c.logprobsResult !== undefined || c.groundingMetadata !== undefined) return null;
  const parts = c.content.parts.filter(isRecord);
  const texts = parts.filter((p) => typeof p.text === 'string');
  if (texts.length !== 1 || parts.some((p) => isRecord(p.functionCall))) return null;
  texts[0]!.text = text;
  return data;
}

/**
 * streamGenerateContent without alt=sse answers with one JSON array, element by element.
 * Altrace always asks upstream for SSE (one element per event) and frames the elements
 * back into the array the client asked for, so the stream is never held whole.
 */
export class JsonArrayFramer implements StreamDecoder {
  readonly #inner: StreamDecoder;
  readonly #retext: SseRetext | null;
  #started = false;

  constructor(inner: StreamDecoder, retext: SseRetext | null = null) {
    this.#inner = inner;
    this.#retext = retext;
  }

  get canRetext(): boolean {
    return this.#retext !== null;
  }

  // An element as framed: its separator, then its JSON.
  retext(e: StreamEvent, text: string): string | null {
    if (!this.#retext || typeof e.raw !== 'string') return null;
    const at = e.raw.startsWith('[') ? 1 : e.raw.startsWith(',\r\n') ? 3 : -1;
    if (at === -1) return null;
    const data = retextJson(e.raw.slice(at), undefined, this.#retext, text);
    return data === null ? null : e.raw.slice(0, at) + data;
  }

  #frame(events: StreamEvent[]): StreamEvent[] {
    return events.map((e) => {
      const json = String(e.raw).replace(/^data: /gm, '').trim();
      const raw = (this.#started ? ',\r\n' : '[') + json;
      this.#started = true;
      return { ...e, raw };
    });
  }

  push(chunk: Uint8Array): StreamEvent[] {
    return this.#frame(this.#inner.push(chunk));
  }

  end(): StreamEvent[] {
    const rest = this.#frame(this.#inner.end());
    rest.push({ raw: this.#started ? ']' : '[]', text: '' });
    return rest;
  }
}
