import test from 'ava';
import { compilePatterns, nextCarry, scanTexts } from '../../proxy/src/scan/match.js';

const compiled = compilePatterns([{ id: 'pk', pattern: 'BEGIN PRIVATE KEY', flags: '' }, { id: 'word', pattern: '\\bforbidden\\b', flags: 'i' }]);

test('finds the fragment in which a match completes', (t) => {
  t.deepEqual(scanTexts(compiled, { carry: '', texts: ['hello ', 'this is Forbidden', 'x'] }, 256), { index: 1, patternId: 'word' });
  t.is(scanTexts(compiled, { carry: '', texts: ['nothing', 'here'] }, 256), null);
});

test('a match split across fragments and across batches is caught', (t) => {
  t.deepEqual(scanTexts(compiled, { carry: '', texts: ['-----BEGIN PRIV', 'ATE KEY-----'] }, 256), { index: 1, patternId: 'pk' });
  const carry = nextCarry('', ['-----BEGIN PRI'], 256);
  t.deepEqual(scanTexts(compiled, { carry, texts: ['VATE KEY'] }, 256), { index: 0, patternId: 'pk' });
});

test('the carry is bounded', (t) => {
  t.is(nextCarry('', ['x'.repeat(1000)], 256).length, 256);
});
