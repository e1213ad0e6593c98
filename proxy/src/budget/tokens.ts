// Input token counts for budget reservations. Over-estimating is safe (the reservation is
// released at settlement); under-estimating is not. Byte-level BPE tokenizers (OpenAI's
// o200k/cl100k, Anthropic's, Llama 3's) and SentencePiece with byte fallback (Gemini) never
// produce more tokens than their input has UTF-8 bytes, so the request body's byte count is
// a true upper bound on its text. Where that bound is too coarse (a budget near its limit),
// OpenAI-family requests are counted with the model's own encoding over the request as sent
// (JSON syntax costs more tokens than the chat framing it stands for, so the count stays at
// or above the provider's); Anthropic, Gemini and Bedrock requests are counted by the
// provider's own count endpoint (budget/provider-count.ts).

export type Encoding = 'o200k_base' | 'cl100k_base';

export interface TokenCount {
  tokens: number;
  /** `bytes` for the upper bound, the encoding that counted, or `provider` (its count endpoint). */
  method: 'bytes' | Encoding | 'provider';
}

/** Tokens a chat format adds for the reply it primes (OpenAI documents 3). */
export const REPLY_PRIMING = 3;

export function inputTokenBound(bodyBytes: number): TokenCount {
  return { tokens: bodyBytes + REPLY_PRIMING, method: 'bytes' };
}

/** The OpenAI encoding of a model, or null for families without an offline tokenizer. */
export function encodingFor(provider: string, model: string): Encoding | null {
  if (provider !== 'openai' && provider !== 'azure') return null;
  if (/^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|chatgpt-4o|text-embedding-3)/.test(model)) return 'o200k_base';
  if (/^(gpt-4|gpt-3\.5|text-embedding-ada)/.test(model)) return 'cl100k_base';
  return null;
}

type Counter = (text: string) => number;
const loaded = new Map<Encoding, Counter>();
const loading = new Map<Encoding, Promise<Counter>>();

/** Loads an encoding once: tens of MB, so only when a budget first needs a closer count. */
export function loadEncoding(e: Encoding): Promise<Counter> {
  let p = loading.get(e);
  if (!p) {
    const mod = e === 'o200k_base' ? import('gpt-tokenizer/encoding/o200k_base') : import('gpt-tokenizer/encoding/cl100k_base');
    p = mod.then((m) => {
      const count: Counter = (text) => m.countTokens(text);
      loaded.set(e, count);
      return count;
    });
    loading.set(e, p);
  }
  return p;
}

export function countWith(e: Encoding, text: string): TokenCount | null {
  const count = loaded.get(e);
  return count ? { tokens: count(text) + REPLY_PRIMING, method: e } : null;
}

/** Output tokens of delivered text, for a stream that ended without usage: exact where loaded, bytes otherwise. */
export function countOutputTokens(text: string, e: Encoding | null): number {
  const count = e ? loaded.get(e) : undefined;
  return count ? count(text) : Buffer.byteLength(text, 'utf8');
}
