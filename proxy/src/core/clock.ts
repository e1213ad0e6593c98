// Where every decision that depends on the time reads it. Contract hours, budget windows, key
// expiry, rate buckets and approval timeouts all read the agent's one clock, so a test (or
// `altrace policy explain --at`) can say which time it runs at, and an answer never depends on
// the hour the suite happens to run.

/** Milliseconds since the Unix epoch, as Date.now answers. */
export type Clock = () => number;

export const systemClock: Clock = Date.now;

/**
 * A clock that reads `at` now and runs at real speed from there (timeouts and rate buckets
 * still see time pass); monotonic, so a system clock step does not move it.
 */
export function clockFrom(at: number): Clock {
  const origin = performance.now();
  return () => at + Math.floor(performance.now() - origin);
}

/** An instant for a clock, from an ISO 8601 date-time with its offset (`2026-12-05T03:00:00Z`) or epoch milliseconds. */
export function parseInstant(text: string): number | null {
  if (/^\d+$/.test(text)) return Number(text);
  // An instant needs its offset: a bare local time would mean something else on every machine.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}
