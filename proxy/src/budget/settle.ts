import type { ReportedUsage } from '../core/usage.js';
import type { SpendAttribution } from './attribution.js';
import type { Charge } from './charge.js';
import type { BudgetLedger } from './ledger.js';
import { costOf } from './prices.js';
import { countOutputTokens } from './tokens.js';
import { windowIds } from './windows.js';

/** How a charged request ended, as settlement needs to know it. */
export interface Outcome {
  /** The request was sent to the provider. */
  upstreamCalled: boolean;
  /** The provider answered 2xx. */
  ok: boolean;
  /** A stream ran to its natural end (not cut, not broken). */
  completed: boolean;
  usage: ReportedUsage | null;
  /** Model text received from the provider, counted when usage is missing. */
  outputText: string;
  provider: string;
  model: string;
}

export interface Settled {
  usd: number;
  inputTokens: number;
  outputTokens: number;
  /** `reported` when the provider's usage decided, `counted` when Altrace had to count. */
  basis: 'reported' | 'counted' | 'none';
}

/**
 * Closes a charge: the reservation is released and the real cost booked, on every path
 * (answered, refused upstream, cut, broken, abandoned). Reported usage wins; where a stream
 * ended without it, the text the provider sent is counted and the input keeps its estimate.
 */
export function settleCharge(ledger: BudgetLedger, attribution: SpendAttribution, charge: Charge, o: Outcome, now: number): Settled {
  let settled: Settled;
  if (!o.upstreamCalled) settled = { usd: 0, inputTokens: 0, outputTokens: 0, basis: 'none' };
  else {
    const reportedOutput = o.usage?.output;
    const complete = o.completed && o.usage?.input !== undefined && reportedOutput !== undefined;
    // A refused call (4xx/5xx) is billed only for what the provider says it used.
    const input = o.usage?.input ?? (o.ok ? charge.inputTokens : 0);
    const output = complete || !o.ok ? (reportedOutput ?? 0) : Math.max(reportedOutput ?? 0, countOutputTokens(o.outputText, charge.encoding));
    const cachedInput = Math.min(o.usage?.cachedInput ?? 0, input);
    const usd = charge.price ? costOf(charge.price, { input, output, cachedInput }) : 0;
    settled = { usd, inputTokens: input, outputTokens: output, basis: complete || !o.ok ? 'reported' : 'counted' };
  }
  if (charge.reservation) ledger.settle(charge.reservation, settled.usd);
  if (o.upstreamCalled) attribution.record(windowIds(now).daily, charge.subjects, charge.fn, o.provider, o.model, settled.usd, settled.inputTokens, settled.outputTokens);
  return settled;
}
