// The control port under input no client should send: every answer is one JSON refusal with a
// reason code (or, for a HEAD, its headers alone), never a 500, never a second reply on the same
// connection, and the agent stays up.
import test from 'ava';
import { ADMIN_TOKEN, startHarness, type Harness } from '../helpers/harness.js';
import { raw, responseCount } from '../helpers/raw-http.js';

const REQUEST_TIMEOUT_MS = 1500;
let h: Harness;
let keyId: string;

test.before(async () => {
  h = await startHarness({ ALTRACE_HEADERS_TIMEOUT_MS: '1000', ALTRACE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) });
  keyId = (await h.createKey({ agent: 'hostile-bot', team: 'qa' })).id;
});
test.after.always(async () => h?.close());

const AUTH = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;
const control = (request: string) => raw(h.agent.controlPort, request);

async function healthy(t: { is(a: unknown, b: unknown, m?: string): void }): Promise<void> {
  const r = await fetch(`${h.controlUrl}/healthz`);
  t.is(r.status, 200, 'the agent stays healthy');
  await r.text();
}

test('regression: bad percent-encoding in a path parameter is a 400 ALT_INVALID_FIELD naming the parameter, not a 500', async (t) => {
  const cases: [string, string, string][] = [
    ['DELETE', '/keys/%E0%A4%A', 'id'],
    ['POST', '/keys/%ZZ/rotate', 'id'],
    ['GET', '/keys/%C0', 'id'],
    ['DELETE', '/kill/agent/%ZZ', 'target'],
    ['DELETE', '/kill/%E0', 'scope'],
    ['PUT', '/budgets/team/%FF', 'target'],
    ['PUT', '/agents/%ZZ/level', 'id'],
    ['POST', '/approvals/%E0%A4/approve', 'id'],
    ['DELETE', '/tokens/%ZZ', 'name'],
  ];
  for (const [method, path, field] of cases) {
    const res = await h.control(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
    const { error } = (await res.json()) as { error: { code: string; field: string; message: string } };
    t.is(res.status, 400, `${method} ${path}`);
    t.is(error.code, 'ALT_INVALID_FIELD', `${method} ${path}`);
    t.is(error.field, field, `${method} ${path}`);
    t.regex(error.message, /percent-encoding/);
  }
  const keys = (await (await h.control('GET', '/keys')).json()) as { keys: { id: string; revoked: string | null }[] };
  t.is(keys.keys.find((k) => k.id === keyId)?.revoked, null, 'nothing was revoked');
  // Well-formed encoding still reaches the handler decoded.
  t.is((await h.control('GET', `/keys/${encodeURIComponent(keyId)}`)).status, 200);
});

test.serial('regression: HEAD with a body it gives no length for, then Connection: close, is answered with headers only', async (t) => {
  for (const path of ['/api/v1/kill', '/api/v1/keys', '/healthz', '/metrics', '/nowhere']) {
    const r = await control(`HEAD ${path} HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n{"scope":"global"}`);
    t.is(responseCount(r.text), 1, `${path}: one reply`);
    t.true(r.text.endsWith('\r\n\r\n'), `${path}: nothing after the head of a HEAD reply: ${JSON.stringify(r.text.slice(-80))}`);
    t.not(r.status, 400, `${path}: the request it answers is the HEAD, not the bytes after it`);
  }
  const head = await control(`HEAD /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 18\r\nConnection: close\r\n\r\n{"scope":"global"}`);
  t.is(head.status, 405);
  t.is(head.headers['allow'], 'GET, POST');
  t.true(head.text.endsWith('\r\n\r\n'));
  t.deepEqual(((await (await h.control('GET', '/kill')).json()) as { switches: unknown[] }).switches, [], 'a HEAD engaged nothing');
  await healthy(t);
});

test.serial('regression: a call followed by bytes after its own Connection: close is carried out and answered, once', async (t) => {
  const body = JSON.stringify({ scope: 'agent', target: 'hostile-bot', reason: 'trailing bytes' });
  const r = await control(`POST /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}GARBAGE`);
  t.is(r.status, 201, 'the kill the client sent is acknowledged');
  t.is(responseCount(r.text), 1);
  t.is(((await (await h.control('GET', '/kill')).json()) as { switches: unknown[] }).switches.length, 1, 'and it was engaged');
  t.is((await h.control('DELETE', '/kill/agent/hostile-bot')).status, 200);
});

test.serial('regression: a body that stops arriving gets one answer, the 408, and the call is not carried out', async (t) => {
  for (const request of [
    `HEAD /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 100\r\n\r\n{"scope":`,
    `GET /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 100\r\n\r\n{"scope":`,
    `POST /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 100\r\n\r\n{"scope":"global"}`,
  ]) {
    const r = await control(request);
    t.is(responseCount(r.text), 1, `one reply, not a 405 or 200 followed by a 408: ${request.split('\r\n')[0]}`);
    t.is(r.status, 408);
    t.is(r.body.error.code, 'ALT_REQUEST_TIMEOUT');
    t.true(r.ms >= REQUEST_TIMEOUT_MS - 100, `answered after ${r.ms} ms, when the request timed out`);
  }
  t.deepEqual(((await (await h.control('GET', '/kill')).json()) as { switches: unknown[] }).switches, [], 'the incomplete kill was not engaged');
  await healthy(t);
});

test('a body over the limit on any route is a 413 that closes the connection', async (t) => {
  const big = 'x'.repeat(70 * 1024);
  const r = await control(`GET /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: ${big.length}\r\n\r\n${big}`);
  t.is(r.status, 413);
  t.is(r.headers['connection'], 'close');
  t.is(r.body.error.code, 'ALT_BODY_TOO_LARGE');
  t.is(responseCount(r.text), 1);
});

test('ops endpoints take GET and HEAD only; a target that is not a URL is a 400; unknown paths a 404, all in JSON', async (t) => {
  const post = await fetch(`${h.controlUrl}/healthz`, { method: 'POST', body: '{}' });
  t.is(post.status, 405);
  t.is(post.headers.get('allow'), 'GET, HEAD');
  t.is(((await post.json()) as { error: { code: string } }).error.code, 'ALT_METHOD_NOT_ALLOWED');
  const metrics = await fetch(`${h.controlUrl}/metrics`, { method: 'HEAD' });
  t.is(metrics.status, 200);
  t.true(Number(metrics.headers.get('content-length')) > 0, 'HEAD /metrics says how long the GET would be');
  const url = await control(`GET http://[x/api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`);
  t.is(url.status, 400);
  t.is(url.body.error.code, 'ALT_INVALID_FIELD');
  t.is(url.body.error.field, '(url)');
  const unknown = await control(`GET /api/v1/%ZZ HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`);
  t.is(unknown.status, 404);
  t.is(unknown.body.error.code, 'ALT_NOT_FOUND');
});

test('an export the client abandons ends, and the agent keeps serving', async (t) => {
  for (let i = 0; i < 50; i++) await h.control('GET', '/kill');
  const ac = new AbortController();
  const res = await fetch(`${h.controlUrl}/api/v1/audit/export`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: ac.signal });
  t.is(res.status, 200);
  ac.abort();
  await healthy(t);
  t.is((await h.control('GET', '/audit?limit=1')).status, 200);
});

test('regression: CONNECT, an unknown Expect and a missing Host header get JSON refusals, not a dropped connection or a bare reply', async (t) => {
  const connect = await control(`CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n${AUTH}\r\n`);
  t.is(connect.status, 405);
  t.is(connect.body.error.code, 'ALT_METHOD_NOT_ALLOWED');
  const expect = await control(`GET /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Expect: nonsense\r\nConnection: close\r\n\r\n`);
  t.is(expect.status, 417);
  t.is(expect.body.error.code, 'ALT_MALFORMED_HTTP');
  t.regex(expect.body.error.message, /Expect: nonsense cannot be met/);
  const hostless = await control(`GET /api/v1/kill HTTP/1.1\r\n${AUTH}Connection: close\r\n\r\n`);
  t.is(hostless.status, 400);
  t.is(hostless.body.error.code, 'ALT_MALFORMED_HTTP');
  t.regex(hostless.body.error.message, /no Host header/);
  await healthy(t);
});

test('regression: a body refused for its size is read to its end before the 413, so a client still sending sees the answer instead of a reset (fuzz case 678)', async (t) => {
  const { connect } = await import('node:net');
  const socket = connect(h.agent.controlPort, '127.0.0.1');
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const received: Buffer[] = [];
  socket.on('data', (c: Buffer) => received.push(c));
  const length = 300_000;
  socket.write(`POST /api/v1/kill HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${'['.repeat(1000)}`);
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.is(Buffer.concat(received).length, 0, 'no answer while the client is still sending');
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.write('1'.repeat(length - 1000));
  await closed;
  const text = Buffer.concat(received).toString('latin1');
  t.regex(text, /^HTTP\/1\.1 413 /);
  t.regex(text, /connection: close/i);
  t.regex(text, /ALT_BODY_TOO_LARGE/);
  t.is(responseCount(text), 1);
  await healthy(t);
});

test.serial('oversized headers are a 431 in JSON and an audit record naming the source, before any token is read', async (t) => {
  const reply = await control(`GET /api/v1/keys HTTP/1.1\r\nHost: x\r\n${AUTH}X-Filler: ${'a'.repeat(20_000)}\r\n\r\n`);
  t.is(reply.status, 431);
  t.regex(JSON.stringify(reply.body), /ALT_HEADERS_TOO_LARGE/);
  type Rec = { control?: { operator: string; action: string; target?: string; status: number; error?: string } };
  let found: Rec | undefined;
  for (let i = 0; i < 50 && !found; i++) {
    const records = ((await (await h.control('GET', '/audit?limit=200')).json()) as { records: Rec[] }).records;
    found = records.find((r) => r.control?.action === 'PROTOCOL ALT_HEADERS_TOO_LARGE');
    if (!found) await new Promise((r) => setTimeout(r, 100));
  }
  t.like(found?.control, { operator: '(unauthenticated)', status: 431, error: 'ALT_HEADERS_TOO_LARGE' });
  t.regex(found?.control?.target ?? '', /127\.0\.0\.1/);
  await healthy(t);
});
