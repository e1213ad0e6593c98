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
 * What a charge cost, from how it ended: reported usage wins; where a stream ended without it,
 * the text the provider sent is counted and the input keeps its estimate. Pure: a data-plane loop
 * works it out where the response was relayed, and only the figures cross to the decider.
 */
export function settledFigures(charge: Omit<Charge, 'reservation'>, o: Outcome): Settled {
  if (!o.upstreamCalled) return { usd: 0, inputTokens: 0, outputTokens: 0, basis: 'none' };
  const reportedOutput = o.usage?.output;
  const complete = o.completed && o.usage?.input !== undefined && reportedOutput !== undefined;
  // A refused call (4xx/5xx) is billed only for what the provider says it used.
  const input = o.usage?.input ?? (o.ok ? charge.inputTokens : 0);
  const output = complete || !o.ok ? (reportedOutput ?? 0) : Math.max(reportedOutput ?? 0, countOutputTokens(o.outputText, charge.encoding));
  const cachedInput = Math.min(o.usage?.cachedInput ?? 0, input);
  const usd = charge.price ? costOf(charge.price, { input, output, cachedInput }) : 0;
  return { usd, inputTokens: input, outputTokens: output, basis: complete || !o.ok ? 'reported' : 'counted' };
}

/** Where a settled call is booked: who made it, and whether the provider was called at all. */
export type Booking = Pick<Outcome, 'upstreamCalled' | 'provider' | 'model'>;

/** Books what a charge cost: its reservation is released at the real cost, and the spend attributed. */
export function bookSettled(ledger: BudgetLedger, attribution: SpendAttribution, charge: Charge, booking: Booking, settled: Settled, now: number): void {
  if (charge.reservation) ledger.settle(charge.reservation, settled.usd);
  if (booking.upstreamCalled) attribution.record(windowIds(now).daily, charge.subjects, charge.fn, booking.provider, booking.model, settled.usd, settled.inputTokens, settled.outputTokens);
}

/**
 * Closes a charge: the reservation is released and the real cost booked, on every path
 * (answered, refused upstream, cut, broken, abandoned).
 */
export function settleCharge(ledger: BudgetLedger, attribution: SpendAttribution, charge: Charge, o: Outcome, now: number): Settled {
  const settled = settledFigures(charge, o);
  bookSettled(ledger, attribution, charge, o, settled, now);
  return settled;
}
