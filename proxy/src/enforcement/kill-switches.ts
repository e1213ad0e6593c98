export const KILL_SCOPES = ['global', 'team', 'agent'] as const;
export type KillScope = (typeof KILL_SCOPES)[number];

/** The target of the global switch: there is only one. */
export const GLOBAL_TARGET = '*';

export interface KillSwitch {
  scope: KillScope;
  /** Team or agent name; `*` for the global switch. */
  target: string;
  reason: string | null;
  /** The operator token name that engaged it. */
  by: string;
  createdAt: number;
}

export interface KillSubject {
  agent: string;
  team: string;
}

export type KillListener = (k: KillSwitch) => void;

/**
 * The engaged kill switches, in memory: the chain reads them synchronously on every
 * request, and engaging one notifies the proxy so it ends what is already in flight.
 * The store persists them; this is its cache and is only changed after the store commits.
 */
export class KillSwitches {
  #global: KillSwitch | null = null;
  readonly #teams = new Map<string, KillSwitch>();
  readonly #agents = new Map<string, KillSwitch>();
  readonly #listeners: KillListener[] = [];
  readonly #releaseListeners: ((scope: KillScope, target: string) => void)[] = [];
  readonly #confirmations: (() => Promise<void>)[] = [];

  engage(k: KillSwitch): void {
    if (k.scope === 'global') this.#global = k;
    else this.#byScope(k.scope).set(k.target, k);
    for (const l of this.#listeners) l(k);
  }

  release(scope: KillScope, target: string): boolean {
    let had: boolean;
    if (scope === 'global') {
      had = this.#global !== null;
      this.#global = null;
    } else had = this.#byScope(scope).delete(target);
    if (had) for (const l of this.#releaseListeners) l(scope, target);
    return had;
  }

  get(scope: KillScope, target: string): KillSwitch | undefined {
    return scope === 'global' ? (this.#global ?? undefined) : this.#byScope(scope).get(target);
  }

  list(): KillSwitch[] {
    return [...(this.#global ? [this.#global] : []), ...this.#teams.values(), ...this.#agents.values()];
  }

  /** The switch that stops this principal, the widest first; null principal: only the global one. */
  stopping(subject: KillSubject | null): KillSwitch | null {
    if (this.#global) return this.#global;
    if (!subject) return null;
    return this.#teams.get(subject.team) ?? this.#agents.get(subject.agent) ?? null;
  }

  /** True when the switch applies to this principal. */
  static covers(k: KillSwitch, subject: KillSubject | null): boolean {
    if (k.scope === 'global') return true;
    if (!subject) return false;
    return k.scope === 'team' ? subject.team === k.target : subject.agent === k.target;
  }

  onEngage(listener: KillListener): void {
    this.#listeners.push(listener);
  }

  /**
   * A party that ends in-flight work where the listeners cannot reach it (the data plane's other
   * loops): `confirmed` waits for each to say it has. Engaging is instant; acknowledging waits.
   */
  onConfirm(confirm: () => Promise<void>): void {
    this.#confirmations.push(confirm);
  }

  /** Resolves once every party has ended what the switches engaged so far cover. */
  async confirmed(): Promise<void> {
    if (this.#confirmations.length) await Promise.all(this.#confirmations.map((c) => c()));
  }

  onRelease(listener: (scope: KillScope, target: string) => void): void {
    this.#releaseListeners.push(listener);
  }

  #byScope(scope: Exclude<KillScope, 'global'>): Map<string, KillSwitch> {
    return scope === 'team' ? this.#teams : this.#agents;
  }
}
