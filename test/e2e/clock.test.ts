// The live agent decides at the time its clock says, not the hour the suite runs: the shipped
// analysts contract (Mon–Fri 06:00–22:00 UTC) at each fixed instant, and a daily budget spent
// in the last second of a month, which admits again once the calendar has turned.
import test from 'ava';
import OpenAI from 'openai';
import { FIXED_CLOCKS, MONTH_END, TestClock, WEEKDAY_NOON, instant } from '../helpers/clocks.js';
import { eventually, startHarness } from '../helpers/harness.js';

const openai = (key: string, baseURL: string) => new OpenAI({ apiKey: key, baseURL: `${baseURL}/v1`, maxRetries: 0 });
const hello = { model: 'gpt-4o-mini', max_tokens: 20, messages: [{ role: 'user' as const, content: 'hello' }] };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'allowed';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

for (const clock of FIXED_CLOCKS) {
  test(`the shipped analysts contract at ${clock.name}`, async (t) => {
    const h = await startHarness({}, { clock: new TestClock(clock).now });
    t.teardown(() => h.close());
    const { key } = await h.createKey({ agent: 'sam', team: 'analysts' });
    const want = clock === WEEKDAY_NOON ? 'allowed' : 'ALT_OUTSIDE_HOURS';
    t.is(await codeOf(openai(key, h.proxyUrl).chat.completions.create(hello)), want);
    // The audit record carries the agent's time, not the machine's.
    let time = '';
    await eventually(
      async () => {
        const { records } = (await (await h.control('GET', '/audit?agent=sam&limit=1')).json()) as { records: { time: string }[] };
        time = records[0]?.time ?? '';
        return time !== '';
      },
      3000,
      'the decision in the audit log',
    );
    t.true(Date.parse(time) >= instant(clock) && Date.parse(time) < instant(clock) + 60_000, `audit time ${time}`);
  });
}

test(`a daily budget spent at ${MONTH_END.name} admits again once the day and the month have turned`, async (t) => {
  // Set ten minutes early, and moved to a minute early once the agent is up: on a loaded machine
  // start-up alone took most of a minute, and the spend below landed in the new day.
  const clock = new TestClock(instant(MONTH_END) - 600_000);
  const h = await startHarness({}, { clock: clock.now });
  t.teardown(() => h.close());
  const { key } = await h.createKey({ agent: 'night-owl', team: 'owls' });
  t.is((await h.control('PUT', '/budgets/team/owls', { daily: 0.1 })).status, 200);
  clock.jumpTo(instant(MONTH_END) - 59_000);
  // Settled from the usage the provider reports: $0.15 of input at gpt-4o-mini's price.
  h.sim.next({ usage: { input: 1_000_000, output: 0 } });
  t.is(await codeOf(openai(key, h.proxyUrl).chat.completions.create(hello)), 'allowed');
  const refused = await t.throwsAsync(openai(key, h.proxyUrl).chat.completions.create(hello));
  t.is((refused as { code?: string }).code, 'ALT_BUDGET_EXCEEDED');
  t.regex((refused as InstanceType<typeof OpenAI.APIError>).message, /daily budget of team owls .* wait until 2026-04-01T00:00:00\.000Z/);

  clock.jumpTo(Date.parse('2026-04-01T00:00:00.500Z'));
  t.is(await codeOf(openai(key, h.proxyUrl).chat.completions.create(hello)), 'allowed', 'a new day');
  const spend = async (window: string) => ((await (await h.control('GET', `/spend?by=team&window=${window}`)).json()) as { rows: { team: string; usd: number }[] }).rows.find((r) => r.team === 'owls');
  t.true((await spend('monthly'))!.usd < 0.01, 'April starts at zero');
  t.true((await spend('weekly'))!.usd >= 0.15, 'the ISO week (Monday 30 March) keeps March 31st spend');
});
