import { globToRegExp } from '../policy/policy.js';

/** USD per million tokens, and the model's output limit (the worst case when max_tokens is absent). */
export interface Price {
  input: number;
  output: number;
  cachedInput: number;
  maxOutput: number;
}

export interface PriceEntry extends Price {
  /** The provider family the entry applies to: openai, anthropic, gemini, bedrock, azure, or a compatible upstream's name. */
  provider: string;
  model: string;
}

export interface PriceTableDocument {
  version: string;
  prices: {
    provider: string;
    model: string;
    input: number;
    output: number;
    cached_input?: number;
    max_output: number;
  }[];
}

interface Compiled extends Price {
  provider: string;
  re: RegExp;
  model: string;
}

/** The versioned price table; the first matching entry (provider, model glob) wins. */
export class PriceTable {
  readonly version: string;
  readonly #entries: Compiled[];
  /** Lookups by provider and model, remembered: the table is immutable once built. */
  readonly #cache = new Map<string, (Price & { model: string }) | null>();

  constructor(doc: PriceTableDocument) {
    this.version = doc.version;
    this.#entries = doc.prices.map((p) => ({
      provider: p.provider,
      model: p.model,
      re: globToRegExp(p.model),
      input: p.input,
      output: p.output,
      cachedInput: p.cached_input ?? p.input,
      maxOutput: p.max_output,
    }));
  }

  /** Azure deployments price as OpenAI models; Bedrock ids carry their own family in the name. */
  lookup(provider: string, model: string): (Price & { model: string }) | null {
    const key = `${provider}\u0000${model}`;
    const cached = this.#cache.get(key);
    if (cached !== undefined) return cached;
    const family = provider === 'azure' ? 'openai' : provider;
    const found = this.#entries.find((e) => (e.provider === provider || e.provider === family) && e.re.test(model)) ?? null;
    // Bounded: model names come from requests, so an unbounded cache would be a memory lever.
    if (this.#cache.size < 10_000) this.#cache.set(key, found);
    return found;
  }

  get size(): number {
    return this.#entries.length;
  }
}

export interface Usage {
  input: number;
  output: number;
  /** Input tokens served from the provider's prompt cache (a subset of input). */
  cachedInput: number;
}

/** USD for a usage at a price. Cached input is billed at its own rate, the rest at the input rate. */
export function costOf(price: Price, u: Usage): number {
  const cached = Math.min(u.cachedInput, u.input);
  return ((u.input - cached) * price.input + cached * price.cachedInput + u.output * price.output) / 1e6;
}

/** Field-wise maximum: providers report usage cumulatively across stream events. */
export function mergeUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (!a) return b;
  if (!b) return a;
  return { input: Math.max(a.input, b.input), output: Math.max(a.output, b.output), cachedInput: Math.max(a.cachedInput, b.cachedInput) };
}
