import test from 'ava';
import { upstreamFailureReason } from '../../proxy/src/upstream/failure.js';

const table: [string, string][] = [
  ['UND_ERR_HEADERS_TIMEOUT', 'ALT_UPSTREAM_TIMEOUT'],
  ['UND_ERR_BODY_TIMEOUT', 'ALT_UPSTREAM_TIMEOUT'],
  ['UND_ERR_CONNECT_TIMEOUT', 'ALT_UPSTREAM_TIMEOUT'],
  ['ECONNREFUSED', 'ALT_UPSTREAM_UNREACHABLE'],
  ['ENOTFOUND', 'ALT_UPSTREAM_UNREACHABLE'],
  ['ECONNRESET', 'ALT_UPSTREAM_RESET'],
  ['UND_ERR_SOCKET', 'ALT_UPSTREAM_RESET'],
  ['ALT_UPSTREAM_ENDED_EARLY', 'ALT_UPSTREAM_RESET'],
  ['ALT_UPSTREAM_BAD_RESPONSE', 'ALT_UPSTREAM_BAD_RESPONSE'],
  ['ALT_RESPONSE_TOO_LARGE', 'ALT_RESPONSE_TOO_LARGE'],
  ['SOMETHING_NEW', 'ALT_UPSTREAM_UNREACHABLE'],
];

for (const [code, reason] of table) {
  test(`${code} → ${reason}`, (t) => {
    t.is<string, string>(upstreamFailureReason(Object.assign(new Error('x'), { code })), reason);
  });
}

test('a stack overflow while reading an answer (RangeError) → ALT_UPSTREAM_BAD_RESPONSE', (t) => {
  let overflow: unknown;
  const deep = JSON.parse('['.repeat(100_000) + ']'.repeat(100_000)) as unknown;
  try {
    JSON.stringify(deep);
  } catch (err) {
    overflow = err;
  }
  t.true(overflow instanceof RangeError);
  t.is<string, string>(upstreamFailureReason(overflow), 'ALT_UPSTREAM_BAD_RESPONSE');
  t.is<string, string>(upstreamFailureReason(new TypeError('x')), 'ALT_UPSTREAM_UNREACHABLE');
});
