import { reasonCodes, reasons, type ReasonCode, type RetryClass } from '../core/reasons.js';
import type { Verdict } from '../core/verdict.js';
import type { ProviderAdapter, RetryAdvice } from '../providers/adapter.js';

/**
 * The OpenAI SDK waits out a retry-after of up to 60 s and replaces a longer one with its own
 * short backoff (node_modules/openai/src/client.ts, retryRequest): a retry it would send
 * before the wait ends is refused again, so a longer wait says "do not retry".
 */
export const DEFAULT_LONGEST_HONOURED_WAIT_MS = 60_000;

/** What a refusal's reply says about sending the request again: to the adapter, and as headers. */
export interface RetrySignal {
  readonly advice: RetryAdvice;
  readonly headers: Readonly<Record<string, string>>;
}

// The OpenAI and Anthropic SDKs obey x-should-retry before they look at the status (shouldRetry).
const DO_NOT_RETRY: RetrySignal = Object.freeze({
  advice: Object.freeze({ retryable: false, afterMs: null }),
  headers: Object.freeze({ 'x-should-retry': 'false' }),
});
/** A transient failure: the SDK's own backoff is the right answer, so nothing is said. */
const SDK_BACKOFF: RetrySignal = Object.freeze({ advice: Object.freeze({ retryable: true, afterMs: null }), headers: Object.freeze({}) });

function fixedSignal(r: RetryClass): RetrySignal | null {
  if (r === 'never') return DO_NOT_RETRY;
  if (r === 'later') return null;
  return SDK_BACKOFF;
}

/** Every reason's signal, once at load; null where the verdict says when (`later`). */
const FIXED = Object.fromEntries(reasonCodes.map((c) => [c, fixedSignal(reasons[c].retry)])) as Record<ReasonCode, RetrySignal | null>;

/**
 * The signal for a refusal. A `later` refusal says when (retry-after in whole seconds, and
 * retry-after-ms, which the OpenAI and Anthropic SDKs prefer); when that is longer than the
 * adapter's SDK waits, or the verdict does not say, the SDK is told not to retry.
 */
export function retrySignal(v: Verdict, adapter: Pick<ProviderAdapter, 'longestHonouredWaitMs'>): RetrySignal {
  const fixed = FIXED[v.reason];
  if (fixed) return fixed;
  const ms = v.retryAfterMs;
  if (ms === undefined) return DO_NOT_RETRY;
  const retryable = ms <= (adapter.longestHonouredWaitMs ?? DEFAULT_LONGEST_HONOURED_WAIT_MS);
  return {
    advice: { retryable, afterMs: ms },
    headers: { 'x-should-retry': String(retryable), 'retry-after': String(Math.ceil(ms / 1000)), 'retry-after-ms': String(Math.ceil(ms)) },
  };
}
