import { WINDOWS, windowEnd, windowId, windowIds, type Window } from './windows.js';

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

export interface Counter {
  /** Settled USD. */
  spent: number;
  /** USD reserved by requests still in flight. */
  reserved: number;
}

/** One subject's counters in the windows they were opened for. */
interface Subject {
  ids: Readonly<Record<Window, string>>;
  counters: Record<Window, Counter>;
}

export interface Reservation {
  readonly usd: number;
  /** The counters the reservation was taken from, held directly: settlement needs no lookup,
   * and a request admitted before midnight settles in the windows that admitted it. */
  readonly counters: readonly Counter[];
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
  /** On a followed node: what it holds of the limit (leased), when that, not the limit, refused. */
  leasedUsd?: number;
}

/**
 * A followed node's budgets (docs/fleet.md, "Budgets: leases"): it may spend what it leased from
 * the control plane, not the whole limit. Asked at every reservation under a limit, with the
 * window's counter, so it can ask for more at a low watermark; never waits.
 */
export interface LeaseCaps {
  cap(scope: BudgetScope, target: string, window: Window, at: number, c: Counter): number;
}

const subjectKey = (scope: BudgetScope, target: string) => `${scope}\u0000${target}`;

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
  readonly #subjects = new Map<string, Subject>();
  /** Set on a node that follows a control plane: what it leased caps each limit. */
  leaseCaps: LeaseCaps | null = null;

  setBudget(b: Budget): void {
    this.#budgets.set(subjectKey(b.scope, b.target), b);
  }

  removeBudget(scope: BudgetScope, target: string): boolean {
    return this.#budgets.delete(subjectKey(scope, target));
  }

  budgets(): Budget[] {
    return [...this.#budgets.values()];
  }

  budget(scope: BudgetScope, target: string): Budget | undefined {
    return this.#budgets.get(subjectKey(scope, target));
  }

  /** True when any budget applies to these subjects (the price must then be known). */
  governs(s: ChargeSubjects): boolean {
    for (const [scope, target] of subjectsOf(s)) if (this.#budgets.has(subjectKey(scope, target))) return true;
    return false;
  }

  /** Spend already settled (e.g. loaded from the store at start-up) in the window containing `at`. */
  addSettled(scope: BudgetScope, target: string, window: Window, at: number, usd: number): void {
    this.#subject(subjectKey(scope, target), windowIds(at)).counters[window].spent += usd;
  }

  /** The live counter of a subject's window (made if new): a lease holder reads its spend from it. */
  counter(scope: BudgetScope, target: string, window: Window, at: number): Counter {
    return this.#subject(subjectKey(scope, target), windowIds(at)).counters[window];
  }

  usage(scope: BudgetScope, target: string, window: Window, at: number): { spent: number; reserved: number } {
    const s = this.#subjects.get(subjectKey(scope, target));
    if (!s || s.ids[window] !== windowId(window, at)) return { spent: 0, reserved: 0 };
    return { spent: s.counters[window].spent, reserved: s.counters[window].reserved };
  }

  reserve(s: ChargeSubjects, usd: number, at: number): Reservation | Exceeded {
    const counters: Counter[] = [];
    const ids = windowIds(at);
    // The subjects in a fixed order without building a list of them: this runs per request.
    for (let i = 0; i < BUDGET_SCOPES.length; i++) {
      const scope = BUDGET_SCOPES[i]!;
      const target = scope === 'cost_center' ? s.cost_center : s[scope];
      if (target === null) continue;
      const key = subjectKey(scope, target);
      const subject = this.#subject(key, ids);
      const budget = this.#budgets.get(key);
      for (const window of WINDOWS) {
        const c = subject.counters[window];
        counters.push(c);
        const limit = budget?.limits[window];
        if (limit === null || limit === undefined) continue;
        const cap = this.leaseCaps === null ? limit : Math.min(limit, this.leaseCaps.cap(scope, target, window, at, c));
        if (c.spent + c.reserved + usd > cap) return { scope, target, window, limit, spent: c.spent, reserved: c.reserved, resetsAt: windowEnd(window, at), ...(cap < limit ? { leasedUsd: cap } : {}) };
      }
    }
    for (const c of counters) c.reserved += usd;
    return { usd, counters, settled: false };
  }

  /** Releases the reservation and books the actual cost on the same windows. Idempotent. */
  settle(r: Reservation, actualUsd: number): void {
    if (r.settled) return;
    r.settled = true;
    for (const c of r.counters) {
      c.reserved = Math.max(0, c.reserved - r.usd);
      c.spent += actualUsd;
    }
  }

  /** Forgets subjects whose week and month have both ended; called now and then. */
  prune(at: number): void {
    const ids = windowIds(at);
    for (const [key, s] of this.#subjects) if (s.ids.weekly !== ids.weekly && s.ids.monthly !== ids.monthly) this.#subjects.delete(key);
  }

  /** The subject's counters for the current windows: a window that has ended starts again at zero. */
  #subject(key: string, ids: Readonly<Record<Window, string>>): Subject {
    let s = this.#subjects.get(key);
    if (!s) {
      s = { ids, counters: { daily: { spent: 0, reserved: 0 }, weekly: { spent: 0, reserved: 0 }, monthly: { spent: 0, reserved: 0 } } };
      this.#subjects.set(key, s);
    } else if (s.ids !== ids) {
      for (const w of WINDOWS) if (s.ids[w] !== ids[w]) s.counters[w] = { spent: 0, reserved: 0 };
      s.ids = ids;
    }
    return s;
  }
}

export function isExceeded(r: Reservation | Exceeded): r is Exceeded {
  return 'limit' in r;
}
