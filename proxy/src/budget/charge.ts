import type { ChargeSubjects, Reservation } from './ledger.js';
import type { Price } from './prices.js';
import type { Encoding } from './tokens.js';

/** What the budget stage admitted a request with; settlement closes it exactly once. */
export interface Charge {
  subjects: ChargeSubjects;
  /** Null when the price table has no entry (no budget governs the request then). */
  price: (Price & { model: string }) | null;
  reservation: Reservation | null;
  /** The input tokens the reservation assumed (an upper bound). */
  inputTokens: number;
  encoding: Encoding | null;
  /** The caller's x-altrace-function header, for attribution. */
  fn: string | null;
}
