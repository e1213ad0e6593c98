import test from 'ava';
import { buildPrefilter, requiredLiteral } from '../../proxy/src/scan/prefilter.js';

test('the required literal is the longest run every match must contain', (t) => {
  t.is(requiredLiteral('-----BEGIN (RSA |EC |OPENSSH )?PRIVATE KEY-----', ''), 'PRIVATE KEY-----');
  t.is(requiredLiteral('AKIA[0-9A-Z]{16}', ''), 'AKIA');
  t.is(requiredLiteral('ghp_[A-Za-z0-9]{36}', ''), 'ghp_');
  t.is(requiredLiteral('sk-ant-api\\d+', ''), 'sk-ant-api');
  t.is(requiredLiteral('a\\.b\\.c\\.d', ''), 'a.b.c.d');
});

test('a character made optional by a quantifier is not part of the literal', (t) => {
  t.is(requiredLiteral('colou?r-code', ''), 'r-code');
  t.is(requiredLiteral('abx*value', ''), 'value');
  t.is(requiredLiteral('xys+word', ''), 'word');
  t.is(requiredLiteral('tokenz{0,3}abc', ''), 'token');
});

test('patterns it cannot vouch for are always scanned', (t) => {
  t.is(requiredLiteral('foo|barbaz', ''), null, 'top-level alternation');
  t.is(requiredLiteral('\\d{16}', ''), null, 'no literal at all');
  t.is(requiredLiteral('ab', ''), null, 'too short to be selective');
  t.is(requiredLiteral('secret', 'iu'), null, 'unicode case folding');
  t.is(requiredLiteral('secret', 'v'), null, 'v-mode classes');
  t.is(requiredLiteral('(unclosed', ''), null);
  t.true(buildPrefilter([{ id: 'a', pattern: 'BEGIN KEY', flags: '' }, { id: 'b', pattern: '\\d{16}', flags: '' }]).mayMatch('nothing here'));
});

test('an empty set never needs a scan; a literal set only when a literal occurs', (t) => {
  t.false(buildPrefilter([]).mayMatch('anything'));
  const p = buildPrefilter([{ id: 'pk', pattern: 'BEGIN (RSA )?PRIVATE KEY', flags: '' }, { id: 'w', pattern: 'forbidden\\b', flags: 'i' }]);
  t.false(p.mayMatch('hello world'));
  t.true(p.mayMatch('xx PRIVATE KEY'));
  t.true(p.mayMatch('this is FORBIDDEN'));
  t.false(p.mayMatch('private key'), 'case-sensitive pattern ignores other cases');
});

// Soundness: wherever a pattern matches, the prefilter must say "maybe". Random texts over
// an alphabet dense in the patterns' own characters make near-misses common.
test('the prefilter never rules out a window a pattern matches', (t) => {
  const patterns = [
    { id: '1', pattern: '-----BEGIN (RSA |EC )?PRIVATE KEY-----', flags: '' },
    { id: '2', pattern: 'ab+c\\.d?e', flags: '' },
    { id: '3', pattern: 'x(?:yz|zy)+w{2}vvv', flags: '' },
    { id: '4', pattern: 'KEY[- ]?ID=\\w+', flags: 'i' },
    { id: '5', pattern: 'q{1,2}rst*u', flags: 'm' },
  ];
  const alphabet = ['-----BEGIN ', 'RSA ', 'EC ', 'PRIVATE KEY-----', 'a', 'b', 'c', '.', 'd', 'e', 'x', 'y', 'z', 'w', 'v', 'key', 'KEY', '-', ' ', 'id=', 'ID=', 'q', 'r', 's', 't', 'u', '7'];
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let matched = 0;
  for (const p of patterns) {
    const re = new RegExp(p.pattern, p.flags);
    const filter = buildPrefilter([p]);
    for (let n = 0; n < 4000; n++) {
      let text = '';
      const len = 1 + rand(12);
      for (let k = 0; k < len; k++) text += alphabet[rand(alphabet.length)];
      if (re.test(text)) {
        matched++;
        if (!filter.mayMatch(text)) t.fail(`pattern ${p.pattern} matches ${JSON.stringify(text)} but the prefilter ruled it out`);
      }
    }
  }
  t.true(matched > 50, `the generator produced ${matched} matches`);
});
