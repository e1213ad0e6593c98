// The fixed instants that time-sensitive tests run at, so that what they assert never depends
// on the hour the suite happens to run: a weekday in office hours, a weekend night, the last
// second of a month (every budget window turns over), and a daylight-saving change in a zone
// that is not UTC.
import { parseInstant } from '../../proxy/src/index.js';

export interface FixedClock {
  /** Named in test titles: a failure says which time it ran at. */
  name: string;
  /** The instant, ISO 8601 UTC. */
  at: string;
}

export const WEEKDAY_NOON: FixedClock = { name: 'Wednesday 12:00 UTC', at: '2026-12-02T12:00:00.000Z' };
export const SATURDAY_NIGHT: FixedClock = { name: 'Saturday 03:00 UTC', at: '2026-12-05T03:00:00.000Z' };
/** Tuesday: the day, the month (and, a Sunday later, not the ISO week) turn over a second later. */
export const MONTH_END: FixedClock = { name: 'the last second of March (Tuesday 23:59:59 UTC)', at: '2026-03-31T23:59:59.000Z' };
/** Sunday 01:00 UTC: Berlin's clocks jump from 02:00 CET to 03:00 CEST. */
export const BERLIN_SPRING_FORWARD: FixedClock = { name: 'the spring-forward instant in Europe/Berlin (Sunday 01:00 UTC)', at: '2026-03-29T01:00:00.000Z' };

export const FIXED_CLOCKS: readonly FixedClock[] = [WEEKDAY_NOON, SATURDAY_NIGHT, MONTH_END, BERLIN_SPRING_FORWARD];

export function instant(c: FixedClock): number {
  const ms = parseInstant(c.at);
  if (ms === null) throw new Error(`not an instant: ${c.at}`);
  return ms;
}

/** A clock a test can move: it runs at real speed from the instant it was last set to. */
export class TestClock {
  #base: number;
  #origin = performance.now();

  constructor(at: FixedClock | number) {
    this.#base = typeof at === 'number' ? at : instant(at);
  }

  readonly now = (): number => this.#base + Math.floor(performance.now() - this.#origin);

  /** Jumps to `at` (forward, as the calendar does at a boundary). */
  jumpTo(at: number): void {
    this.#base = at;
    this.#origin = performance.now();
  }
}
