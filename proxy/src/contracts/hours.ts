import { WEEKDAYS, type Weekday } from './document.js';

function minutesOf(hhmm: string): number {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(hhmm);
  if (!m) throw new Error(`"${hhmm}" is not a time of day (HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/**
 * A weekly time window in a time zone. `from` > `to` spans midnight (22:00–06:00); the day
 * is the local day at the moment of the request. The local clock is computed once a minute.
 */
export class Hours {
  readonly days: ReadonlySet<Weekday>;
  readonly from: number;
  readonly to: number;
  readonly tz: string;
  readonly #format: Intl.DateTimeFormat;
  #minute = -1;
  #local: { day: Weekday; minutes: number } = { day: 'sun', minutes: 0 };

  constructor(days: readonly Weekday[], from: string, to: string, tz: string) {
    this.days = new Set(days);
    this.from = minutesOf(from);
    this.to = minutesOf(to);
    this.tz = tz;
    // Throws RangeError for a zone the runtime does not know: refused at load.
    this.#format = new Intl.DateTimeFormat('en-US', { timeZone: tz, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  }

  #localAt(now: number): { day: Weekday; minutes: number } {
    const minute = Math.floor(now / 60_000);
    if (minute === this.#minute) return this.#local;
    let day: Weekday = 'sun';
    let minutes = 0;
    for (const p of this.#format.formatToParts(now)) {
      if (p.type === 'weekday') day = p.value.slice(0, 3).toLowerCase() as Weekday;
      else if (p.type === 'hour') minutes += Number(p.value) * 60;
      else if (p.type === 'minute') minutes += Number(p.value);
    }
    this.#minute = minute;
    this.#local = { day, minutes };
    return this.#local;
  }

  contains(now: number): boolean {
    const { day, minutes } = this.#localAt(now);
    if (!this.days.has(day)) return false;
    return this.from < this.to ? minutes >= this.from && minutes < this.to : minutes >= this.from || minutes < this.to;
  }

  describe(): string {
    const hhmm = (m: number): string => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
    const days = this.days.size === WEEKDAYS.length ? 'every day' : WEEKDAYS.filter((d) => this.days.has(d)).join(',');
    return `${days} ${hhmm(this.from)}–${hhmm(this.to)} ${this.tz}`;
  }
}
