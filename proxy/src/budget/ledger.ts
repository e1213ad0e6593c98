import { WINDOWS, windowEnd, windowId, type Window } from './windows.js';

export const BUDGET_SCOPES = ['key', 'agent', 'team', 'cost_center'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];

export type BudgetLimits = Record<Window, number | null>;

export interface Budget {
  scope: BudgetScope;
  target: string;
  limits: BudgetLimits;
  by: string;
  updatedAt: number;
}

/** Who a request is charged to: one target per scope (cost center only when the key has one). */
export interface ChargeSubjects {
  key: string;
  agent: string;
  team: string;
  cost_center: string | null;
}

interface Counter {
  /** Settled USD. */
  spent: number;
  /** USD reserved by requests still in flight. */
  reserved: number;
}

export interface Reservation {
  readonly usd: number;
  /** Counter keys the reservation was taken from, in the windows of its admission. */
  readonly counters: readonly string[];
  settled: boolean;
}

export interface Exceeded {
  scope: BudgetScope;
  target: string;
  window: Window;
  limit: number;
  spent: number;
  reserved: number;
  resetsAt: number;
}

const counterKey = (scope: BudgetScope, target: string, window: Window, id: string) => `${scope}\u0000${target}\u0000${window}\u0000${id}`;
const budgetKey = (scope: BudgetScope, target: string) => `${scope}\u0000${target}`;

function subjectsOf(s: ChargeSubjects): [BudgetScope, string][] {
  const out: [BudgetScope, string][] = [
    ['key', s.key],
    ['agent', s.agent],
    ['team', s.team],
  ];
  if (s.cost_center !== null) out.push(['cost_center', s.cost_center]);
  return out;
}

/**
 * Hard budgets, in memory. Admission reserves the worst-case cost on every window of every
 * budgeted subject at once, or refuses; settlement releases the reservation and books the
 * real cost. Both are synchronous, so concurrent requests cannot both take the last dollar:
 * spent + reserved never exceeds a limit at admission, and the overrun is bounded by what
 * settles above its reservation.
 */
export class BudgetLedger {
  readonly #budgets = new Map<string, Budget>();
  readonly #counters = new Map<string, Counter>();

  setBudget(b: Budget): void {
    this.#budgets.set(budgetKey(b.scope, b.target), b);
  }

  removeBudget(scope: BudgetScope, target: string): boolean {
    return this.#budgets.delete(budgetKey(scope, target));
  }

  budgets(): Budget[] {
    return [...this.#budgets.values()];
  }

  budget(scope: BudgetScope, target: string): Budget | undefined {
    return this.#budgets.get(budgetKey(scope, target));
  }

  /** True when any budget applies to these subjects (the price must then be known). */
  governs(s: ChargeSubjects): boolean {
    for (const [scope, target] of subjectsOf(s)) if (this.#budgets.has(budgetKey(scope, target))) return true;
    return false;
  }

  /** Spend already settled (e.g. loaded from the store at start-up) in the window containing `at`. */
  addSettled(scope: BudgetScope, target: string, window: Window, at: number, usd: number): void {
    this.#counter(counterKey(scope, target, window, windowId(window, at))).spent += usd;
  }

  usage(scope: BudgetScope, target: string, window: Window, at: number): { spent: number; reserved: number } {
    const c = this.#counters.get(counterKey(scope, target, window, windowId(window, at)));
    return { spent: c?.spent ?? 0, reserved: c?.reserved ?? 0 };
  }

  reserve(s: ChargeSubjects, usd: number, at: number): Reservation | Exceeded {
    const keys: string[] = [];
    for (const [scope, target] of subjectsOf(s)) {
      const budget = this.#budgets.get(budgetKey(scope, target));
      for (const window of WINDOWS) {
        const key = counterKey(scope, target, window, windowId(window, at));
        keys.push(key);
        const limit = budget?.limits[window];
        if (limit === null || limit === undefined) continue;
        const c = this.#counters.get(key);
        const spent = c?.spent ?? 0;
        const reserved = c?.reserved ?? 0;
        if (spent + reserved + usd > limit) return { scope, target, window, limit, spent, reserved, resetsAt: windowEnd(window, at) };
      }
    }
    for (const key of keys) this.#counter(key).reserved += usd;
    return { usd, counters: keys, settled: false };
  }

  /** Releases the reservation and books the actual cost on the same windows. Idempotent. */
  settle(r: Reservation, actualUsd: number): void {
    if (r.settled) return;
    r.settled = true;
    for (const key of r.counters) {
      const c = this.#counter(key);
      c.reserved = Math.max(0, c.reserved - r.usd);
      c.spent += actualUsd;
    }
  }

  /** Drops counters of windows that have ended; called now and then. */
  prune(at: number): void {
    const live = new Set(WINDOWS.map((w) => `\u0000${w}\u0000${windowId(w, at)}`));
    for (const [key, c] of this.#counters) {
      const tail = key.slice(key.indexOf('\u0000', key.indexOf('\u0000') + 1));
      if (!live.has(tail) && c.reserved === 0) this.#counters.delete(key);
    }
  }

  #counter(key: string): Counter {
    let c = this.#counters.get(key);
    if (!c) {
      c = { spent: 0, reserved: 0 };
      this.#counters.set(key, c);
    }
    return c;
  }
}

export function isExceeded(r: Reservation | Exceeded): r is Exceeded {
  return 'limit' in r;
}
