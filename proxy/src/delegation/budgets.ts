import type { Counter, Reservation } from '../budget/ledger.js';

/**
 * Delegation budgets: each link's `budget_usd` caps what everyone holding that link or a link
 * below it spends over the link's lifetime. Reserved with the request's worst case next to
 * the ledger's budgets, settled with them. In memory: a link is forgotten after it expires.
 */
export class DelegationBudgets {
  readonly #links = new Map<string, { counter: LinkCounter; limit: number; exp: number }>();
  /** Spend other nodes of the fleet reported for links this node has not seen yet. */
  readonly #early = new Map<string, { usd: number; exp: number }>();
  /** Told of spend settled here on a link (not merged): a followed node shares it with the fleet. */
  onSpend: ((id: string, usd: number, exp: number) => void) | null = null;

  #counter(id: string, limit: number, exp: number): { counter: Counter; limit: number } {
    let e = this.#links.get(id);
    if (!e) {
      if (this.#links.size > 10_000) this.prune(Math.floor(Date.now() / 1000));
      e = { counter: new LinkCounter((usd) => this.onSpend?.(id, usd, exp)), limit, exp };
      const early = this.#early.get(id);
      if (early) {
        e.counter.merge(early.usd);
        this.#early.delete(id);
      }
      this.#links.set(id, e);
    }
    return e;
  }

  /** Spend another node of the fleet settled on a link (`exp`: when the link expires, epoch seconds). */
  merge(id: string, usd: number, exp: number): void {
    const e = this.#links.get(id);
    if (e) return e.counter.merge(usd);
    if (this.#early.size > 10_000) this.#early.clear();
    const had = this.#early.get(id);
    this.#early.set(id, { usd: (had?.usd ?? 0) + usd, exp });
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
    return this.#links.get(id)?.counter.spent ?? this.#early.get(id)?.usd ?? 0;
  }

  prune(nowS: number): void {
    for (const [id, e] of this.#links) if (e.exp <= nowS && e.counter.reserved === 0) this.#links.delete(id);
    for (const [id, e] of this.#early) if (e.exp <= nowS) this.#early.delete(id);
  }
}

/**
 * A link's counter: the ledger settles it like any other (spent += actual), and the increase is
 * reported, so the fleet's other nodes count it too; spend merged from them is not reported back.
 */
class LinkCounter implements Counter {
  reserved = 0;
  #spent = 0;

  constructor(private readonly report: (usd: number) => void) {}

  get spent(): number {
    return this.#spent;
  }

  set spent(v: number) {
    const added = v - this.#spent;
    this.#spent = v;
    if (added > 0) this.report(added);
  }

  merge(usd: number): void {
    this.#spent += usd;
  }
}
