// Budget windows on UTC calendar boundaries: the day, the ISO week (Monday to Sunday), the month.

export const WINDOWS = ['daily', 'weekly', 'monthly'] as const;
export type Window = (typeof WINDOWS)[number];

const DAY_MS = 86_400_000;

function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

let cachedDay = -1;
let cachedIds: Record<Window, string> = { daily: '', weekly: '', monthly: '' };

/** The ids of the three windows containing `ms`; computed once per UTC day (the hot path asks per request). */
export function windowIds(ms: number): Readonly<Record<Window, string>> {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedIds = { daily: windowId('daily', ms), weekly: windowId('weekly', ms), monthly: windowId('monthly', ms) };
    cachedDay = day;
  }
  return cachedIds;
}

/** The id of the window containing `ms`: `2026-11-22`, `week-of-2026-11-16`, `2026-11`. */
export function windowId(window: Window, ms: number): string {
  if (window === 'daily') return isoDate(ms);
  if (window === 'monthly') return isoDate(ms).slice(0, 7);
  const day = Math.floor(ms / DAY_MS) * DAY_MS;
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return `week-of-${isoDate(day - weekday * DAY_MS)}`;
}

/** When the window containing `ms` ends (exclusive), for "resets at" in replies and hints. */
export function windowEnd(window: Window, ms: number): number {
  const d = new Date(ms);
  if (window === 'daily') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
  if (window === 'monthly') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const weekday = (d.getUTCDay() + 6) % 7;
  return day + (7 - weekday) * DAY_MS;
}

/** The first day (YYYY-MM-DD) of the window containing `ms`. */
export function windowStartDay(window: Window, ms: number): string {
  if (window === 'daily') return isoDate(ms);
  if (window === 'monthly') return `${isoDate(ms).slice(0, 7)}-01`;
  return windowId('weekly', ms).slice('week-of-'.length);
}
