import test from 'ava';
import { jsonDeeperThan } from '../../proxy/src/core/json-depth.js';
import { everyString, stringLeaves } from '../../proxy/src/scan/leaves.js';
import { argumentsObject } from '../../proxy/src/contracts/evidence.js';

const nested = (depth: number, inner = '') => '['.repeat(depth) + inner + ']'.repeat(depth);

test('jsonDeeperThan counts arrays and objects, not brackets inside strings or after escaped quotes', (t) => {
  t.false(jsonDeeperThan(nested(256), 256));
  t.true(jsonDeeperThan(nested(257), 256));
  t.true(jsonDeeperThan('{"a":'.repeat(300) + '1' + '}'.repeat(300), 256));
  t.false(jsonDeeperThan(JSON.stringify({ s: nested(1000) }), 256), 'brackets in a string are text');
  // An escaped quote does not end the string; an escaped backslash before a quote does.
  t.false(jsonDeeperThan(JSON.stringify({ s: `\\"${nested(1000)}` }), 256));
  t.true(jsonDeeperThan(`["\\\\",${nested(300)}]`, 256));
  // Siblings do not add up: depth is nesting, not count.
  t.false(jsonDeeperThan(`[${Array.from({ length: 1000 }, () => '[]').join(',')}]`, 2));
  // Malformed text is left to JSON.parse.
  t.false(jsonDeeperThan(`["unterminated ${nested(1000)}`, 256));
});

test('the string walks are iterative: a value nested 100,000 deep is walked, in document order', (t) => {
  const deep = JSON.parse(nested(100_000, '"secret-value-here"')) as unknown;
  t.is(stringLeaves(deep)[0]!.text, 'secret-value-here');
  t.is(stringLeaves(deep)[0]!.path.length, 100_000);
  t.is(everyString(deep).length, 1);
  const doc = { model: 'gpt-4o', a: ['first string', { id: 'x', b: 'second string' }], c: 'third string', short: 'ab' };
  t.deepEqual(
    stringLeaves(doc).map((l) => [l.path, l.text]),
    [
      [['a', 0], 'first string'],
      [['a', 1, 'b'], 'second string'],
      [['c'], 'third string'],
    ],
  );
  t.deepEqual(
    everyString(doc).map((l) => l.path.join('.')),
    ['model', 'a.0', 'a.1.id', 'a.1.b', 'c', 'short'],
  );
});

test('tool arguments nested past the ceiling inside a string are no object at all', (t) => {
  t.deepEqual(argumentsObject('{"order_id":"42"}'), { order_id: '42' });
  t.is(argumentsObject(`{"order_id":${nested(5000)}}`), undefined);
});
