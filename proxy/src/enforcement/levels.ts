// Graduated enforcement: each agent stands at one level, each level with a defined effect.

import { ROUNDING } from '../contracts/rate.js';

export const LEVELS = ['normal', 'warning', 'throttle', 'quarantine', 'block', 'kill'] as const;
export type Level = (typeof LEVELS)[number];

export function severity(l: Level): number {
  return LEVELS.indexOf(l);
}

export interface AgentLevel {
  agent: string;
  level: Level;
  /** `operator:<token name>` or `rule:<rule id>`: operator levels never step down on their own. */
  setBy: string;
  reason: string | null;
  since: number;
}

/** A token bucket per agent, for the throttle level. */
class Bucket {
  tokens: number;
  last: number;
  constructor(capacity: number, now: number) {
    this.tokens = capacity;
    this.last = now;
  }
}

/**
 * The agents' levels, in memory for the chain; the agent's EnforcementService persists
 * and changes them. Agents without an entry are at `normal`.
 */
export class AgentLevels {
  readonly #levels = new Map<string, AgentLevel>();
  readonly #buckets = new Map<string, Bucket>();
  throttlePerSecond = 1;

  set(l: AgentLevel): void {
    if (l.level === 'normal') this.#levels.delete(l.agent);
    else this.#levels.set(l.agent, l);
    if (l.level !== 'throttle') this.#buckets.delete(l.agent);
  }

  get(agent: string): AgentLevel | undefined {
    return this.#levels.get(agent);
  }

  list(): AgentLevel[] {
    return [...this.#levels.values()];
  }

  /** Takes one request from the agent's throttle bucket; false when it is empty. */
  admit(agent: string, now: number): boolean {
    const rate = this.throttlePerSecond;
    let b = this.#buckets.get(agent);
    if (!b) {
      b = new Bucket(rate, now);
      this.#buckets.set(agent, b);
    }
    b.tokens = Math.min(rate, b.tokens + ((now - b.last) / 1000) * rate);
    b.last = now;
    if (b.tokens < 1 - ROUNDING) return false;
    b.tokens -= 1;
    return true;
  }

  /** Milliseconds until the agent's throttle bucket admits a request (whole, rounded up): the refusal's retry-after. */
  waitMs(agent: string): number {
    const b = this.#buckets.get(agent);
    return b ? Math.max(0, Math.ceil(((1 - b.tokens) / this.throttlePerSecond) * 1000)) : 0;
  }
}
