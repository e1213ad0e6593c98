// The failed-token bucket per source: when a source is locked out, what an operator sees, and lifting it.
import test from 'ava';
import { AuthFailures } from '../../proxy/src/identity/auth-failures.js';

test('the failure that spends the bucket locks the source out, once; it is listed until it refills or is lifted', (t) => {
  let now = 1_000_000;
  const f = new AuthFailures({ failures: 3, perMs: 60_000 }, () => now);
  t.deepEqual([f.fail('10.0.0.1'), f.fail('10.0.0.1'), f.fail('10.0.0.1'), f.fail('10.0.0.1')], [false, false, true, false], 'the third locks it; later ones do not lock it again');
  t.true(f.retryAfterMs('10.0.0.1') > 0);
  f.fail('10.0.0.2');
  t.deepEqual(f.lockedOut().map((l) => l.source), ['10.0.0.1'], 'a source with failures left is not locked out');
  now += 20_000; // one failure's worth refills
  t.deepEqual(f.lockedOut(), []);
  t.true(f.fail('10.0.0.1'), 'spent again: locked again, and recorded again');
  t.true(f.clear('10.0.0.1'));
  t.is(f.retryAfterMs('10.0.0.1'), 0);
  t.false(f.clear('10.0.0.1'));
  t.false(new AuthFailures({ failures: 0, perMs: 60_000 }).fail('x'), 'no limit: never locked');
});

test('a source that keeps failing waits longer each time: every lockout in a row doubles the wait, up to 64 times; a full bucket forgets', (t) => {
  let now = 1_000_000;
  const f = new AuthFailures({ failures: 3, perMs: 60_000 }, () => now);
  for (let i = 0; i < 3; i++) f.fail('10.0.0.9');
  const waits: number[] = [f.retryAfterMs('10.0.0.9')];
  for (let round = 0; round < 8; round++) {
    now += waits[waits.length - 1]!;
    t.is(f.retryAfterMs('10.0.0.9'), 0, 'one attempt once the wait is over');
    t.true(f.fail('10.0.0.9'), 'spent at once: locked again');
    waits.push(f.retryAfterMs('10.0.0.9'));
  }
  t.deepEqual(waits, [20_000, 40_000, 80_000, 160_000, 320_000, 640_000, 1_280_000, 1_280_000, 1_280_000], 'doubling, capped at 64 times the first');
  // Left alone long enough to refill completely, it starts over.
  now += 3 * 1_280_000 + 1;
  t.is(f.retryAfterMs('10.0.0.9'), 0);
  for (let i = 0; i < 3; i++) f.fail('10.0.0.9');
  t.is(f.retryAfterMs('10.0.0.9'), 20_000);
});
