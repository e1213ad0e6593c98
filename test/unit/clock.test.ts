// Time-dependent decisions at fixed instants: contract hours (in UTC and in a zone with
// daylight saving), budget windows and their turnover. Each case names the time it runs at,
// so none depends on when the suite runs.
import test from 'ava';
import { BudgetLedger, isExceeded } from '../../proxy/src/budget/ledger.js';
import { windowEnd, windowId, WINDOWS } from '../../proxy/src/budget/windows.js';
import { Hours } from '../../proxy/src/contracts/hours.js';
import type { Weekday } from '../../proxy/src/contracts/document.js';
import { clockFrom, parseInstant } from '../../proxy/src/index.js';
import { BERLIN_SPRING_FORWARD, FIXED_CLOCKS, instant, MONTH_END, SATURDAY_NIGHT, WEEKDAY_NOON, type FixedClock } from '../helpers/clocks.js';

const WEEKDAYS: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
const EVERY_DAY: Weekday[] = [...WEEKDAYS, 'sat', 'sun'];

/** Contracts' hours, and whether each fixed instant falls inside them. */
const windows: { name: string; hours: Hours; inside: Record<string, boolean> }[] = [
  {
    name: 'Mon–Fri 06:00–22:00 UTC (the shipped analysts contract)',
    hours: new Hours(WEEKDAYS, '06:00', '22:00', 'UTC'),
    inside: { [WEEKDAY_NOON.at]: true, [SATURDAY_NIGHT.at]: false, [MONTH_END.at]: false, [BERLIN_SPRING_FORWARD.at]: false },
  },
  {
    name: 'Mon–Fri 09:00–17:00 Europe/Berlin',
    hours: new Hours(WEEKDAYS, '09:00', '17:00', 'Europe/Berlin'),
    // Noon UTC is 13:00 CET; the month's last second is 01:59:59 CEST on Wednesday.
    inside: { [WEEKDAY_NOON.at]: true, [SATURDAY_NIGHT.at]: false, [MONTH_END.at]: false, [BERLIN_SPRING_FORWARD.at]: false },
  },
  {
    name: 'every day 01:00–04:00 Europe/Berlin',
    hours: new Hours(EVERY_DAY, '01:00', '04:00', 'Europe/Berlin'),
    // Saturday 03:00 UTC is 04:00 CET (the end is exclusive); spring forward lands on 03:00 CEST.
    inside: { [WEEKDAY_NOON.at]: false, [SATURDAY_NIGHT.at]: false, [MONTH_END.at]: true, [BERLIN_SPRING_FORWARD.at]: true },
  },
  {
    name: 'every day 22:00–06:00 UTC (across midnight)',
    hours: new Hours(EVERY_DAY, '22:00', '06:00', 'UTC'),
    inside: { [WEEKDAY_NOON.at]: false, [SATURDAY_NIGHT.at]: true, [MONTH_END.at]: true, [BERLIN_SPRING_FORWARD.at]: true },
  },
];

for (const clock of FIXED_CLOCKS) {
  test(`contract hours at ${clock.name}`, (t) => {
    for (const w of windows) t.is(w.hours.contains(instant(clock)), w.inside[clock.at]!, `${w.name} at ${clock.at}`);
  });
}

test('a local window on the day Berlin springs forward lasts the wall-clock hours that exist', (t) => {
  const at = (iso: string) => Date.parse(iso);
  const early = new Hours(EVERY_DAY, '01:00', '04:00', 'Europe/Berlin');
  t.true(early.contains(at('2026-03-29T00:30:00Z')), '01:30 CET');
  t.true(early.contains(at('2026-03-29T01:59:00Z')), '03:59 CEST');
  t.false(early.contains(at('2026-03-29T02:00:00Z')), '04:00 CEST: two real hours after 01:00 CET, not three');
  // 02:00–03:00 local does not exist that night: nothing is inside it.
  const missing = new Hours(['sun'], '02:00', '03:00', 'Europe/Berlin');
  for (let m = 0; m < 180; m += 5) t.false(missing.contains(at('2026-03-28T23:00:00Z') + m * 60_000), `${m} min after 00:00 CET`);
  // Autumn: 02:00–03:00 local happens twice, and both count.
  const twice = new Hours(['sun'], '02:00', '03:00', 'Europe/Berlin');
  t.true(twice.contains(at('2026-10-25T00:30:00Z')), '02:30 CEST');
  t.true(twice.contains(at('2026-10-25T01:30:00Z')), '02:30 CET');
  t.false(twice.contains(at('2026-10-25T02:00:00Z')), '03:00 CET');
});

/** The budget windows containing each instant: ids, and when each resets. */
const expectedWindows: Record<string, Record<(typeof WINDOWS)[number], [string, string]>> = {
  [WEEKDAY_NOON.at]: { daily: ['2026-12-02', '2026-12-03'], weekly: ['week-of-2026-11-30', '2026-12-07'], monthly: ['2026-12', '2027-01-01'] },
  [SATURDAY_NIGHT.at]: { daily: ['2026-12-05', '2026-12-06'], weekly: ['week-of-2026-11-30', '2026-12-07'], monthly: ['2026-12', '2027-01-01'] },
  [MONTH_END.at]: { daily: ['2026-03-31', '2026-04-01'], weekly: ['week-of-2026-03-30', '2026-04-06'], monthly: ['2026-03', '2026-04-01'] },
  [BERLIN_SPRING_FORWARD.at]: { daily: ['2026-03-29', '2026-03-30'], weekly: ['week-of-2026-03-23', '2026-03-30'], monthly: ['2026-03', '2026-04-01'] },
};

for (const clock of FIXED_CLOCKS) {
  test(`budget windows (UTC calendar) at ${clock.name}`, (t) => {
    for (const w of WINDOWS) {
      const [id, end] = expectedWindows[clock.at]![w];
      t.is(windowId(w, instant(clock)), id, `${w} id`);
      t.is(new Date(windowEnd(w, instant(clock))).toISOString(), `${end}T00:00:00.000Z`, `${w} reset`);
    }
  });
}

function spentLedger(clock: FixedClock): BudgetLedger {
  const ledger = new BudgetLedger();
  ledger.setBudget({ scope: 'team', target: 'ops', limits: { daily: 1, weekly: 5, monthly: 10 }, by: 'test', updatedAt: 0 });
  const r = ledger.reserve({ key: 'k', agent: 'a', team: 'ops', cost_center: null }, 1, instant(clock));
  if (isExceeded(r)) throw new Error('the first dollar must fit');
  ledger.settle(r, 1);
  return ledger;
}

test('a daily budget spent in the last second of the month admits again one second later, in the new day and month', (t) => {
  const ledger = spentLedger(MONTH_END);
  const subjects = { key: 'k', agent: 'a', team: 'ops', cost_center: null };
  const refused = ledger.reserve(subjects, 0.5, instant(MONTH_END) + 999);
  t.true(isExceeded(refused));
  if (isExceeded(refused)) {
    t.is(refused.window, 'daily');
    t.is(new Date(refused.resetsAt).toISOString(), '2026-04-01T00:00:00.000Z');
  }
  const admitted = ledger.reserve(subjects, 0.5, instant(MONTH_END) + 1000);
  t.false(isExceeded(admitted), 'a new day');
  t.deepEqual(ledger.usage('team', 'ops', 'weekly', instant(MONTH_END) + 1000), { spent: 1, reserved: 0.5 }, 'the same ISO week keeps its spend');
  t.deepEqual(ledger.usage('team', 'ops', 'monthly', instant(MONTH_END) + 1000), { spent: 0, reserved: 0.5 }, 'a new month starts at zero');
});

for (const clock of [WEEKDAY_NOON, SATURDAY_NIGHT, BERLIN_SPRING_FORWARD]) {
  test(`a spent daily budget stays spent until its UTC midnight, not a second earlier, at ${clock.name}`, (t) => {
    const ledger = spentLedger(clock);
    const subjects = { key: 'k', agent: 'a', team: 'ops', cost_center: null };
    const midnight = windowEnd('daily', instant(clock));
    t.true(isExceeded(ledger.reserve(subjects, 0.5, midnight - 1)));
    t.false(isExceeded(ledger.reserve(subjects, 0.5, midnight)));
  });
}

test('clockFrom reads the given instant and then runs at real speed', async (t) => {
  const clock = clockFrom(instant(SATURDAY_NIGHT));
  const first = clock();
  t.true(first >= instant(SATURDAY_NIGHT) && first < instant(SATURDAY_NIGHT) + 50);
  await new Promise((r) => setTimeout(r, 30));
  t.true(clock() - first >= 25, 'time passes');
});

test('parseInstant takes ISO 8601 with an offset or epoch ms, and refuses local times', (t) => {
  t.is(parseInstant('2026-12-05T03:00:00Z'), Date.UTC(2026, 11, 5, 3));
  t.is(parseInstant('2026-12-05T04:00:00+01:00'), Date.UTC(2026, 11, 5, 3));
  t.is(parseInstant(String(Date.UTC(2026, 11, 5, 3))), Date.UTC(2026, 11, 5, 3));
  t.is(parseInstant('2026-12-05T03:00:00'), null, 'no offset: it would mean another instant on every machine');
  t.is(parseInstant('Saturday'), null);
  t.is(parseInstant('2026-13-45T03:00:00Z'), null);
});
