import {
  BUDGET_SCOPES,
  WINDOWS,
  windowEnd,
  windowStartDay,
  type Budget,
  type BudgetLedger,
  type BudgetLimits,
  type BudgetScope,
  type KeyRegistry,
  type SpendAttribution,
  type Window,
} from '../../../proxy/src/index.js';
import type { Operator } from './operator.js';
import { agentTeams, canSeeTeam, isAdmin, requireAdmin, requireAgentInScope, requireTeam } from './team-scope.js';
import { ControlError, notOneOf } from '../errors.js';
import type { SpendDimension } from '../state/store.js';
import type { ServiceStore } from '../state/service-store.js';

const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:-]{0,127}$/;
export const SPEND_DIMENSIONS: readonly SpendDimension[] = ['team', 'agent', 'key', 'cost_center', 'function', 'model'];
/** Above this a limit is almost certainly a typo (cents for dollars, an extra zero). */
const MAX_LIMIT_USD = 10_000_000;

export function parseBudgetScope(v: string): BudgetScope {
  if (!(BUDGET_SCOPES as readonly string[]).includes(v)) throw new ControlError('ALT_INVALID_FIELD', notOneOf('scope', v, BUDGET_SCOPES), 'scope');
  return v as BudgetScope;
}

/** `{daily, weekly, monthly}` in USD: each a number ≥ 0, or null/absent for no limit in that window. */
export function parseLimits(body: unknown): BudgetLimits {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!(WINDOWS as readonly string[]).includes(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field (daily, weekly, monthly)`, k);
  const limits = { daily: null, weekly: null, monthly: null } as BudgetLimits;
  for (const w of WINDOWS) {
    const v = b[w];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_LIMIT_USD) {
      throw new ControlError('ALT_INVALID_FIELD', `${w} must be a number of USD between 0 and ${MAX_LIMIT_USD}, or null`, w);
    }
    limits[w] = v;
  }
  return limits;
}

/**
 * Budgets and spend: limits set by operators (persisted before the reply), the ledger's
 * counters restored from the attribution rows at start-up, and settled spend flushed to
 * the store every second. A crash loses at most that second of attribution; the budget
 * counters are rebuilt from what was flushed.
 */
export class BudgetService {
  constructor(
    private readonly store: ServiceStore,
    private readonly ledger: BudgetLedger,
    private readonly attribution: SpendAttribution,
    private readonly keys: KeyRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  /** The service with the store's limits in the ledger and its counters rebuilt from the flushed spend. */
  static async open(store: ServiceStore, ledger: BudgetLedger, attribution: SpendAttribution, keys: KeyRegistry, now: () => number = Date.now): Promise<BudgetService> {
    for (const b of await store.listBudgets()) ledger.setBudget(b);
    const at = now();
    const today = windowStartDay('daily', at);
    const dims: [BudgetScope, SpendDimension][] = [
      ['key', 'key'],
      ['agent', 'agent'],
      ['team', 'team'],
      ['cost_center', 'cost_center'],
    ];
    for (const w of WINDOWS) {
      for (const [scope, dim] of dims) {
        for (const row of await store.spendBy(dim, windowStartDay(w, at), today, null)) {
          if (row.value !== null) ledger.addSettled(scope, row.value, w, at, row.usd);
        }
      }
    }
    return new BudgetService(store, ledger, attribution, keys, now);
  }

  async flush(): Promise<void> {
    await this.store.addSpend(this.attribution.drain());
    this.ledger.prune(this.now());
  }

  #authorize(op: Operator, scope: BudgetScope, target: string): void {
    if (scope === 'team') requireTeam(op, target, 'target');
    else if (scope === 'agent') requireAgentInScope(op, this.keys, target, 'target');
    else if (scope === 'key') {
      const key = this.keys.get(target);
      if (!key || !canSeeTeam(op, key.team)) throw new ControlError('ALT_NOT_FOUND', `no key ${target}`, 'target');
    } else requireAdmin(op, 'set cost-center budgets');
  }

  async put(op: Operator, scopeParam: string, target: string, body: unknown): Promise<Budget | null> {
    const scope = parseBudgetScope(scopeParam);
    if (!NAME.test(target)) throw new ControlError('ALT_INVALID_FIELD', 'target must be a name: letters, digits, _ . : -', 'target');
    const limits = parseLimits(body);
    this.#authorize(op, scope, target);
    if (WINDOWS.every((w) => limits[w] === null)) {
      await this.store.deleteBudget(scope, target);
      this.ledger.removeBudget(scope, target);
      return null;
    }
    const budget: Budget = { scope, target, limits, by: op.name, updatedAt: this.now() };
    await this.store.putBudget(budget);
    this.ledger.setBudget(budget);
    return budget;
  }

  #visible(op: Operator, b: Budget, teams: Map<string, string>): boolean {
    if (isAdmin(op)) return true;
    if (b.scope === 'team') return b.target === op.team;
    if (b.scope === 'agent') return teams.get(b.target) === op.team;
    if (b.scope === 'key') return this.keys.get(b.target)?.team === op.team;
    return false;
  }

  list(op: Operator) {
    const at = this.now();
    const teams = agentTeams(this.keys);
    return this.ledger
      .budgets()
      .filter((b) => this.#visible(op, b, teams))
      .map((b) => ({
        scope: b.scope,
        target: b.target,
        set_by: b.by,
        updated: new Date(b.updatedAt).toISOString(),
        windows: Object.fromEntries(
          WINDOWS.map((w) => {
            const u = this.ledger.usage(b.scope, b.target, w, at);
            return [w, { limit: b.limits[w], spent: round(u.spent), reserved: round(u.reserved), resets: new Date(windowEnd(w, at)).toISOString() }];
          }),
        ),
      }));
  }

  async spend(op: Operator, by: string | null, windowParam: string | null) {
    const dimension = (by ?? 'team') as SpendDimension;
    if (!SPEND_DIMENSIONS.includes(dimension)) throw new ControlError('ALT_INVALID_FIELD', notOneOf('by', by, SPEND_DIMENSIONS), 'by');
    const window = (windowParam ?? 'monthly') as Window;
    if (!WINDOWS.includes(window)) throw new ControlError('ALT_INVALID_FIELD', notOneOf('window', windowParam, WINDOWS), 'window');
    await this.flush();
    const at = this.now();
    const from = windowStartDay(window, at);
    const to = windowStartDay('daily', at);
    const rows = await this.store.spendBy(dimension, from, to, op.team);
    return {
      by: dimension,
      window,
      from,
      to,
      ...(op.team ? { team: op.team } : {}),
      total_usd: round(rows.reduce((s, r) => s + r.usd, 0)),
      rows: rows.map((r) => ({ [dimension]: r.value, usd: round(r.usd), requests: r.requests, input_tokens: r.inputTokens, output_tokens: r.outputTokens })),
    };
  }
}

function round(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}
