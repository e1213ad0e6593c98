// The fuzz judge's accepted outcomes (test/fixtures/fuzz/judge.ts), one by one, and the raw reply reader it depends on.
import test from 'ava';
import type { FuzzCase } from '../fixtures/fuzz/cases.js';
import { judge, type Outcome } from '../fixtures/fuzz/judge.js';
import { parseReplies } from '../fixtures/fuzz/wire.js';

const proxyCase = (over: Partial<FuzzCase> = {}): FuzzCase => ({
  index: 0,
  what: [],
  request: { lane: 'http1', port: 'proxy', method: 'POST', path: '/v1/chat/completions', headers: {}, body: null },
  upstream: null,
  mayClose: false,
  ...over,
});
const reply = (status: number, body: unknown, headers: Record<string, string> = {}): Outcome => ({ end: 'complete', replies: [{ status, headers, body: typeof body === 'string' ? body : JSON.stringify(body) }], rest: Buffer.alloc(0) });
const ctx = { secrets: ['sk-REAL'], witnessed: false };
const refusal = (status: number, reason: string) => reply(status, { error: { code: reason, altrace: { reason } } }, { 'x-altrace-reason': reason });
const codes = (c: FuzzCase, o: Outcome, witnessed = false) => judge(c, o, { ...ctx, witnessed }).map((p) => p.code);

test('a data-plane refusal needs the same ALT_* reason in the header and in the body', (t) => {
  t.deepEqual(codes(proxyCase(), refusal(400, 'ALT_MALFORMED_JSON')), []);
  t.deepEqual(codes(proxyCase(), reply(400, { error: { code: 'ALT_MALFORMED_JSON' } })), ['no-reason'], 'error.code alone is not the data plane shape');
  t.deepEqual(codes(proxyCase(), reply(400, { error: { altrace: { reason: 'ALT_X' } } }, { 'x-altrace-reason': 'ALT_Y' })), ['no-reason']);
  t.deepEqual(codes(proxyCase(), reply(400, '', { 'x-altrace-reason': 'ALT_X' })), ['no-reason'], 'an empty body');
  t.deepEqual(codes(proxyCase({ request: { lane: 'http1', port: 'proxy', method: 'HEAD', path: '/', headers: {}, body: null } }), reply(405, '', { 'x-altrace-reason': 'ALT_METHOD_NOT_ALLOWED' })), [], 'HEAD has no body');
});

test('5xx: only an ALT_UPSTREAM_* refusal or the relayed status the case scripted, and only when it scripted one', (t) => {
  t.deepEqual(codes(proxyCase(), refusal(502, 'ALT_UPSTREAM_BAD_RESPONSE')), ['server-error']);
  t.deepEqual(codes(proxyCase({ upstream: { raw: { body: 'x' } } }), refusal(502, 'ALT_UPSTREAM_BAD_RESPONSE')), []);
  t.deepEqual(codes(proxyCase({ upstream: { raw: { body: 'x' } } }), refusal(500, 'ALT_STAGE_FAILED')), ['server-error']);
  t.deepEqual(codes(proxyCase({ upstream: { error: { status: 503 } } }), reply(503, { error: {} }), true), []);
  t.deepEqual(codes(proxyCase({ upstream: { error: { status: 503 } } }), reply(500, { error: {} }), true), ['server-error']);
  t.deepEqual(codes(proxyCase(), reply(400, { error: { message: 'from the provider' } }), true), [], 'a relayed 4xx');
  t.deepEqual(codes(proxyCase(), reply(400, { error: { message: 'from nowhere' } }), false), ['no-reason']);
});

test('the control API names its reason in error.code, and never answers 5xx', (t) => {
  const c = proxyCase({ request: { lane: 'http1', port: 'control', method: 'GET', path: '/api/v1/keys', headers: {}, body: null } });
  t.deepEqual(codes(c, reply(401, { error: { code: 'ALT_UNAUTHENTICATED' } })), []);
  t.deepEqual(codes(c, reply(401, 'Unauthorized')), ['no-reason']);
  t.deepEqual(codes(c, reply(500, { error: { code: 'ALT_INTERNAL' } })), ['server-error']);
});

test('a key or a stack trace in any answer, even a 200, is a problem', (t) => {
  t.deepEqual(codes(proxyCase(), reply(200, { echo: 'sk-REAL' })), ['leaked-secret']);
  t.deepEqual(codes(proxyCase(), reply(200, 'Error: x\n    at handle (/app/dist/proxy.js:12:5)')), ['stack-trace']);
  t.deepEqual(codes(proxyCase(), reply(200, { text: 'meet me at 5' })), []);
});

test('closing without an answer is accepted only where the client gave up first; pipelines must be answered or closed', (t) => {
  const closed: Outcome = { end: 'server-closed', replies: [], rest: Buffer.alloc(0) };
  t.deepEqual(codes(proxyCase(), closed), ['closed-without-answer']);
  t.deepEqual(codes(proxyCase({ mayClose: true }), closed), []);
  t.deepEqual(codes(proxyCase(), { end: 'timeout', replies: [], rest: Buffer.alloc(0) }), ['timeout']);
  const raw = (responses: number): FuzzCase => proxyCase({ request: { lane: 'raw', port: 'proxy', writes: [], gapMs: 0, end: 'wait', responses, h2: false } });
  const one = refusal(400, 'ALT_MALFORMED_HTTP');
  t.deepEqual(codes(raw(2), one), ['missing-answers']);
  t.deepEqual(codes(raw(2), { ...one, replies: [{ ...one.replies[0]!, headers: { ...one.replies[0]!.headers, connection: 'close' } }] }), []);
  t.deepEqual(codes(raw(1), { ...one, rest: Buffer.from('HTTP/1.1 200') }), ['bytes-after-answer']);
});

test('parseReplies reads pipelined answers by content-length and chunking, HEAD answers without a body, and leaves the rest', (t) => {
  const wire = Buffer.from(
    'HTTP/1.1 100 Continue\r\n\r\n' +
      'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok' +
      'HTTP/1.1 405 Method Not Allowed\r\ncontent-length: 10\r\n\r\n' +
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n0\r\n\r\n' +
      'HTTP/1.1 400 Bad',
  );
  const { replies, rest } = parseReplies(wire, [false, true, false]);
  t.deepEqual(replies.map((r) => [r.status, r.body]), [[200, 'ok'], [405, ''], [200, 'abc']]);
  t.is(rest.toString(), 'HTTP/1.1 400 Bad');
  t.is(parseReplies(Buffer.from('HTTP/1.1 200 OK\r\n\r\nuntil close'), [], true).replies[0]!.body, 'until close');
});
