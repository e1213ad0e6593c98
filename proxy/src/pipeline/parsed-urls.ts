import { targetUrl } from '../core/request-target.js';

/**
 * URLs parsed once per distinct target. Agents call a handful of paths over and over (every
 * chat completion is /v1/chat/completions), and a WHATWG parse per request is measurable at
 * saturation. Only targets without a query are kept: a query may carry a key (Gemini's
 * `?key=`), and a key must not outlive its request. The URLs handed out are shared: read them,
 * never change them.
 */
export class ParsedUrls {
  readonly #base: string;
  readonly #max: number;
  readonly #cache = new Map<string, URL>();

  constructor(base: string, max = 512) {
    this.#base = base;
    this.#max = max;
  }

  get(target: string): URL {
    if (target.includes('?')) return targetUrl(target, this.#base);
    let url = this.#cache.get(target);
    if (url === undefined) {
      url = targetUrl(target, this.#base);
      // Distinct paths are few in practice; a client inventing new ones only refills the cache.
      if (this.#cache.size >= this.#max) this.#cache.clear();
      this.#cache.set(target, url);
    }
    return url;
  }
}
