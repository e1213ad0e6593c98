import type { Counter, Reservation } from '../budget/ledger.js';

/**
 * Delegation budgets: each link's `budget_usd` caps what everyone holding that link or a link
 * below it spends over the link's lifetime. Reserved with the request's worst case next to
 * the ledger's budgets, settled with them. In memory: a link is forgotten after it expires.
 */
export class DelegationBudgets {
  readonly #links = new Map<string, { counter: Counter; limit: number; exp: number }>();

  #counter(id: string, limit: number, exp: number): { counter: Counter; limit: number } {
    let e = this.#links.get(id);
    if (!e) {
      if (this.#links.size > 10_000) this.prune(Math.floor(Date.now() / 1000));
      e = { counter: { spent: 0, reserved: 0 }, limit, exp };
      this.#links.set(id, e);
    }
    return e;
  }

  /** The first link whose budget the worst case would overrun, or null. */
  exceeded(budgets: readonly { id: string; usd: number; exp: number }[], worst: number): { id: string; limit: number; spent: number; reserved: number } | null {
    for (const b of budgets) {
      const { counter, limit } = this.#counter(b.id, b.usd, b.exp);
      if (counter.spent + counter.reserved + worst > limit) return { id: b.id, limit, spent: counter.spent, reserved: counter.reserved };
    }
    return null;
  }

  /** A reservation that also holds the links' counters: settling it settles them too. */
  reserve(r: Reservation, budgets: readonly { id: string; usd: number; exp: number }[]): Reservation {
    const counters = budgets.map((b) => this.#counter(b.id, b.usd, b.exp).counter);
    for (const c of counters) c.reserved += r.usd;
    return { usd: r.usd, counters: [...r.counters, ...counters], settled: r.settled };
  }

  spent(id: string): number {
    return this.#links.get(id)?.counter.spent ?? 0;
  }

  prune(nowS: number): void {
    for (const [id, e] of this.#links) if (e.exp <= nowS && e.counter.reserved === 0) this.#links.delete(id);
  }
}
