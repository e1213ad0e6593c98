import type { ChargeSubjects } from './ledger.js';

/** One attribution row: spend of a day, for one combination of who, what and where. */
export interface SpendRow {
  /** UTC date, YYYY-MM-DD. */
  day: string;
  team: string;
  agent: string;
  key: string;
  costCenter: string | null;
  fn: string | null;
  provider: string;
  model: string;
  usd: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

/**
 * Settled spend waiting to be written: rows are summed in memory per dimension tuple and
 * drained to the store in one transaction every flush interval, so settlement never waits on disk.
 */
export class SpendAttribution {
  #pending = new Map<string, SpendRow>();

  record(day: string, s: ChargeSubjects, fn: string | null, provider: string, model: string, usd: number, inputTokens: number, outputTokens: number): void {
    const key = [day, s.team, s.agent, s.key, s.cost_center ?? '', fn ?? '', provider, model].join('\u0000');
    let row = this.#pending.get(key);
    if (!row) {
      row = { day, team: s.team, agent: s.agent, key: s.key, costCenter: s.cost_center, fn, provider, model, usd: 0, requests: 0, inputTokens: 0, outputTokens: 0 };
      this.#pending.set(key, row);
    }
    row.usd += usd;
    row.requests += 1;
    row.inputTokens += inputTokens;
    row.outputTokens += outputTokens;
  }

  drain(): SpendRow[] {
    const rows = [...this.#pending.values()];
    this.#pending = new Map();
    return rows;
  }

  get pending(): number {
    return this.#pending.size;
  }
}
