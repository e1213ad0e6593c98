// Guessing keys costs time: failed authentication is counted per source address on both
// ports, audited on the control API, and a source over the limit waits before any of its
// credentials is looked at again.
import test from 'ava';
import { startHarness, type Harness } from '../helpers/harness.js';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';

const LIMIT = 5;
let h: Harness;
const clock = new TestClock(WEEKDAY_NOON);

test.before(async () => {
  h = await startHarness({ ALTRACE_AUTH_FAILURES_PER_MINUTE: String(LIMIT) }, { clock: clock.now });
});
test.after.always(async () => {
  await h?.close();
});

const chat = (key: string) =>
  fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });

async function metric(port: string): Promise<number> {
  const text = await (await fetch(`${h.controlUrl}/metrics`)).text();
  const m = new RegExp(`^altrace_auth_failures_total\\{port="${port}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

test.serial('proxy: after the limit of unknown keys a source is refused with 429 and retry-after, its valid key too, until the bucket refills', async (t) => {
  const { key } = await h.createKey({ agent: 'guessed', team: 'qa', models: ['gpt-4o-mini'] });
  for (let i = 0; i < LIMIT; i++) t.is((await chat(`alt-guess-${i}-${'x'.repeat(20)}`)).status, 401);
  const sim = h.sim.count();
  const throttled = await chat('alt-guess-more-xxxxxxxxxxxxxxxxxxxx');
  t.is(throttled.status, 429);
  t.is(throttled.headers.get('x-altrace-reason'), 'ALT_AUTH_THROTTLED');
  const after = Number(throttled.headers.get('retry-after'));
  t.true(after > 0 && after <= 60 / LIMIT, `retry-after ${after} s: one failure's worth of refill`);
  const valid = await chat(key);
  t.is(valid.status, 429, 'the source waits, whatever key it sends now');
  t.is(h.sim.count(), sim, 'nothing reached the provider');
  t.is(await metric('proxy'), LIMIT);
  t.true((await metric('proxy_throttled')) >= 2);
  clock.jumpTo(clock.now() + 60_000);
  t.is((await chat(key)).status, 200, 'a minute later the bucket has refilled');
});

test.serial('control API: failed operator tokens are audited with the source, and a source over the limit gets 429 before its token is checked', async (t) => {
  const wrong = (i: number) => fetch(`${h.controlUrl}/api/v1/keys`, { headers: { authorization: `Bearer altop-wrong-${i}` } });
  for (let i = 0; i < LIMIT; i++) t.is((await wrong(i)).status, 401);
  const throttled = await wrong(99);
  t.is(throttled.status, 429);
  t.is(((await throttled.json()) as { error: { code: string } }).error.code, 'ALT_AUTH_THROTTLED');
  t.true(Number(throttled.headers.get('retry-after')) > 0);
  t.is((await h.control('GET', '/keys')).status, 429, 'the admin token from the same source waits too');
  t.is(await metric('control'), LIMIT);
  clock.jumpTo(clock.now() + 60_000);
  const audit = (await (await h.control('GET', '/audit?limit=100')).json()) as { records: { control?: { operator: string; action?: string; target?: string; status: number; error?: string } }[] };
  const failed = audit.records.filter((r) => r.control?.operator === '(unauthenticated)' && r.control.action !== 'LOCKOUT');
  t.is(failed.length, LIMIT, 'every failed attempt is in the audit log; throttled ones are counted, not audited');
  t.true(failed.every((r) => r.control!.status === 401 && r.control!.error === 'ALT_UNAUTHENTICATED' && /127\.0\.0\.1/.test(r.control!.target ?? '')));
  // The failure that locked the source out is recorded once more, as the lockout.
  const lockouts = audit.records.filter((r) => r.control?.action === 'LOCKOUT');
  t.is(lockouts.length, 1);
  t.like(lockouts[0]!.control, { status: 429, error: 'ALT_AUTH_THROTTLED' });
});
