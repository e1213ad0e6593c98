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
