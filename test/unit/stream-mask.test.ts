import test from 'ava';
import type { Fragment } from '../../proxy/src/core/fragment.js';
import { block } from '../../proxy/src/core/verdict.js';
import { StreamMask } from '../../proxy/src/scan/stream-mask.js';

const V = block('content-response', 'ALT_CONTENT_REGULATED');
const frags = (...texts: string[]): Fragment[] => texts.map((text, i) => ({ text, seq: i }));

test('holds the fragments overlapping the last `hold` characters; what precedes them is released', (t) => {
  const m = new StreamMask(10);
  const fs = frags('0123456789', 'abcde', 'fghij', 'klm');
  m.add(fs.slice(0, 2));
  t.is(m.heldFrom(), 0, '15 characters seen: the first fragment still reaches into the last 10');
  m.add(fs.slice(2));
  t.is(m.heldFrom(), 1, '23 seen: the first fragment ends before the last 10 and is released');
  t.false(m.mask(5, 12, 'pii.email', V), 'a match that began in released text cannot be masked');
  t.is(fs[1]!.redaction, undefined);
  t.true(m.mask(12, 20, 'pii.email', V));
  t.deepEqual(fs.map((f) => f.redaction?.text), [undefined, 'ab[REDACTED:pii.email]', '', undefined]);
});

test('several matches in one fragment, and overlapping ones, mask from the original text', (t) => {
  const m = new StreamMask(100);
  const [f] = frags('mail a@b.co or c@d.co now');
  m.add([f!]);
  t.true(m.mask(5, 11, 'pii.email', V));
  t.true(m.mask(15, 21, 'pii.email', V));
  t.true(m.mask(16, 21, 'pii.email', V), 'an overlapping match adds nothing');
  t.is(f!.redaction?.text, 'mail [REDACTED:pii.email] or [REDACTED:pii.email] now');
});

test('an empty stream holds nothing', (t) => {
  const m = new StreamMask(10);
  t.is(m.heldFrom(), null);
});
