import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { ADMIN_TOKEN, startHarness, type Harness } from '../helpers/harness.js';
import { patience } from '../helpers/patience.js';
import { raw } from '../helpers/raw-http.js';

// What arrives before a request can be governed: HTTP the parser refuses, clients too slow to
// send their headers, JSON nested deeper than anything walks safely. Each is a clear 4xx in
// JSON with a reason code, never a 5xx and never a bare close, and the agent stays up.
const HEADERS_TIMEOUT_MS = 1000;
const REQUEST_TIMEOUT_MS = 1500;
const dir = mkdtempSync(join(tmpdir(), 'altrace-protocol-'));
let h: Harness;
let key: string;

test.before(async () => {
  // An MCP server that is never reached: a refused body must not get that far.
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ mcp: { servers: [{ name: 'tools', url: 'http://127.0.0.1:9/mcp' }] } }));
  h = await startHarness({
    ALTRACE_CONFIG: join(dir, 'config.yaml'),
    ALTRACE_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
    ALTRACE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
  });
  key = (await h.createKey({ agent: 'prober', team: 'qa' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Requests the parser refuses; `post` is a path whose handler reads the body before it answers. */
const malformed = (post: string): [string, string][] => [
  ['a bare LF ending a header line', 'GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\nX-B: b\r\n\r\n'],
  ['a bare CR inside a header value', 'GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n'],
  ['an obs-fold continuation line', 'GET /v1/models HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n'],
  ['a chunk size that is not hex', `POST ${post} HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
  ['a chunk without its CRLF', `POST ${post} HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n`],
];
const AUTH = `Authorization: Bearer ${ADMIN_TOKEN}\r\n`;

async function protocolErrors(listener: string, reason: string): Promise<number> {
  const text = await (await fetch(`${h.controlUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`altrace_protocol_errors_total{listener="${listener}",reason="${reason}"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

/** Data-plane refusals with this reason so far. */
async function refusals(reason: string): Promise<number> {
  const text = await (await fetch(`${h.controlUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('altrace_requests_total{') && l.includes(`reason="${reason}"`))
    .reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

async function healthy(t: { is(a: unknown, b: unknown, m?: string): void }): Promise<void> {
  const r = await fetch(`${h.controlUrl}/healthz`);
  t.is(r.status, 200, 'the agent stays healthy');
  await r.text();
}

for (const [listener, port, post] of [
  ['proxy', () => h.agent.proxyPort, '/v1/chat/completions'],
  ['control', () => h.agent.controlPort, '/api/v1/keys'],
] as const) {
  test.serial(`${listener} port: malformed HTTP is a JSON 400 ALT_MALFORMED_HTTP, counted, then closed`, async (t) => {
    const before = await protocolErrors(listener, 'ALT_MALFORMED_HTTP');
    for (const [what, request] of malformed(post)) {
      const r = await raw(port(), request);
      t.is(r.status, 400, what);
      t.is(r.headers['connection'], 'close', what);
      t.is(r.headers['x-altrace-reason'], 'ALT_MALFORMED_HTTP', what);
      t.is(r.headers['x-should-retry'], 'false', what);
      t.is(r.body.error.code, 'ALT_MALFORMED_HTTP', what);
      t.regex(r.body.error.message, /HTTP request is malformed \(HPE_/, what);
      t.is(r.body.error.altrace.reason, 'ALT_MALFORMED_HTTP', what);
    }
    t.is(await protocolErrors(listener, 'ALT_MALFORMED_HTTP'), before + malformed(post).length);
    await healthy(t);
  });

  test.serial(`${listener} port: oversized headers are a JSON 431 ALT_HEADERS_TOO_LARGE`, async (t) => {
    const r = await raw(port(), `GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    t.is(r.status, 431);
    t.is(r.body.error.code, 'ALT_HEADERS_TOO_LARGE');
    t.true((await protocolErrors(listener, 'ALT_HEADERS_TOO_LARGE')) >= 1);
    await healthy(t);
  });

  test.serial(`${listener} port: a slow-header client is answered 408 and closed within the header timeout`, async (t) => {
    // A byte every 200 ms: always active, so an idle timeout alone would never close it.
    const r = await raw(port(), 'GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200) + '\r\n\r\n', 200);
    t.is(r.status, 408);
    t.is(r.body.error.code, 'ALT_REQUEST_TIMEOUT');
    // The sweep that enforces it runs every quarter of the timeout.
    t.true(r.ms < HEADERS_TIMEOUT_MS + patience(1500), `closed after ${r.ms} ms`);
    t.true(r.ms >= HEADERS_TIMEOUT_MS - 50, `closed after ${r.ms} ms, before the timeout`);
    t.is(await protocolErrors(listener, 'ALT_REQUEST_TIMEOUT') > 0, true);
    await healthy(t);
  });
}

test.serial('a connection that never sends a byte is closed within the header timeout', async (t) => {
  const r = await raw(h.agent.proxyPort, '');
  t.is(r.status, null);
  t.true(r.ms >= HEADERS_TIMEOUT_MS - 50 && r.ms < HEADERS_TIMEOUT_MS + patience(1500), `closed after ${r.ms} ms`);
});

test.serial('a response longer than the request timeout is not cut: it limits receiving the request only', async (t) => {
  h.sim.next({ fragments: Array.from({ length: 12 }, (_, i) => `f${i} `), fragmentDelayMs: 250 });
  const started = Date.now();
  const res = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await res.text();
  t.is(res.status, 200);
  t.true(Date.now() - started > REQUEST_TIMEOUT_MS, 'the stream outlasted the request timeout');
  t.true(text.includes('"content":"f11 "'));
  t.true(text.includes('[DONE]'));
});

/** `depth` arrays inside one another, as JSON text. */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

test.serial('JSON nested deeper than limits.max_json_depth is a 400 through the OpenAI SDK, naming the limit; no retry', async (t) => {
  const before = h.sim.count();
  const client = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 2 });
  // Deep in a tool's parameter schema, where an SDK passes structure through untouched.
  const deep = JSON.parse(`{"type":"object","properties":{"x":{"default":${nested(1000)}}}}`) as Record<string, unknown>;
  const err = await t.throwsAsync(
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: deep } }] }),
    { instanceOf: OpenAI.BadRequestError },
  );
  t.is(err!.status, 400);
  t.is(err!.code, 'ALT_JSON_TOO_DEEP');
  t.regex(err!.message, /at most 256 levels deep \(limits\.max_json_depth\)/);
  t.is(await refusals('ALT_JSON_TOO_DEEP'), 1, 'x-should-retry: false kept the SDK from sending it again');
  t.is(h.sim.count(), before, 'nothing reached the provider');
  // Within the limit, the same shape is served.
  const fine = JSON.parse(`{"type":"object","properties":{"x":{"default":${nested(200)}}}}`) as Record<string, unknown>;
  const ok = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f', parameters: fine } }] });
  t.truthy(ok.choices[0]);
});

test.serial('10,000 and 1,000,000 nested arrays are a 400 ALT_JSON_TOO_DEEP, never a 5xx; brackets inside strings do not count', async (t) => {
  for (const depth of [10_000, 1_000_000]) {
    for (const where of ['metadata', 'content']) {
      const body =
        where === 'metadata'
          ? `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"metadata":${nested(depth)}}`
          : `{"model":"gpt-4o-mini","messages":[{"role":"user","content":${nested(depth)}}]}`;
      const res = await fetch(`${h.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });
      const json = (await res.json()) as any;
      t.is(res.status, 400, `${depth} deep in ${where}`);
      t.is(json.error.code, 'ALT_JSON_TOO_DEEP');
      t.regex(json.error.altrace.hint, /at most 256 levels/);
    }
  }
  const brackets = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `${nested(5000)} "\\[ {{{` }] }),
  });
  await brackets.text();
  t.is(brackets.status, 200, 'brackets in a string are text, not nesting');
  await healthy(t);
});

test.serial('an MCP JSON-RPC body nested too deep is a JSON-RPC invalid request, before the server is contacted', async (t) => {
  const res = await fetch(`${h.proxyUrl}/mcp/tools`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x","arguments":{"a":${nested(10_000)}}}}`,
  });
  const json = (await res.json()) as any;
  t.is(res.status, 400);
  t.is(json.error.code, -32600);
  t.is(json.error.data.altrace.reason, 'ALT_JSON_TOO_DEEP');
});

test.serial('the control API refuses a body nested too deep with 400 ALT_JSON_TOO_DEEP', async (t) => {
  const res = await fetch(`${h.controlUrl}/api/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: `{"agent":"a","team":"t","models":${nested(10_000)}}`,
  });
  const json = (await res.json()) as any;
  t.is(res.status, 400);
  t.is(json.error.code, 'ALT_JSON_TOO_DEEP');
  t.regex(json.error.message, /more than 256 levels deep/);
  await healthy(t);
});

// ---- HTTP/2 (cleartext, prior knowledge, on the proxy port): the same timeouts as HTTP/1.1 ----

const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
/** An HTTP/2 frame header: 24-bit length, type, flags, stream id. */
const frameHeader = (length: number, type: number, flags: number, stream: number): Buffer => {
  const b = Buffer.alloc(9);
  b.writeUIntBE(length, 0, 3);
  b.writeUInt8(type, 3);
  b.writeUInt8(flags, 4);
  b.writeUInt32BE(stream, 5);
  return b;
};

/** Sends `data` on a fresh connection and collects what the server sends until it closes. */
function rawH2(port: number, data: Buffer): Promise<{ frames: { type: number; payload: Buffer }[]; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const guard = setTimeout(() => (socket.destroy(), reject(new Error(`the server did not close the connection within ${patience(20_000)} ms`))), patience(20_000));
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(guard);
      const all = Buffer.concat(chunks);
      const frames: { type: number; payload: Buffer }[] = [];
      for (let at = 0; at + 9 <= all.length; ) {
        const length = all.readUIntBE(at, 3);
        frames.push({ type: all.readUInt8(at + 3), payload: all.subarray(at + 9, at + 9 + length) });
        at += 9 + length;
      }
      resolve({ frames, ms: Date.now() - started });
    });
    socket.write(data);
  });
}

const GOAWAY = 0x7;

for (const [what, bytes] of [
  ['half the preface', Buffer.from(H2_PREFACE.slice(0, 12))],
  ['the preface and half a HEADERS frame', Buffer.concat([Buffer.from(H2_PREFACE), frameHeader(0, 0x4, 0, 0), frameHeader(64, 0x1, 0x4, 1), Buffer.alloc(10)])],
  ['the preface and SETTINGS, then nothing', Buffer.concat([Buffer.from(H2_PREFACE), frameHeader(0, 0x4, 0, 0)])],
] as const) {
  test.serial(`HTTP/2: a session that sends ${what} gets GOAWAY naming ALT_REQUEST_TIMEOUT and is closed within the header timeout`, async (t) => {
    const before = await protocolErrors('proxy', 'ALT_REQUEST_TIMEOUT');
    const r = await rawH2(h.agent.proxyPort, bytes);
    t.true(r.ms >= HEADERS_TIMEOUT_MS - 50 && r.ms < HEADERS_TIMEOUT_MS + patience(1500), `closed after ${r.ms} ms`);
    const goaway = r.frames.find((f) => f.type === GOAWAY);
    t.truthy(goaway, `frames: ${r.frames.map((f) => f.type).join(',')}`);
    t.regex(goaway!.payload.subarray(8).toString(), /^ALT_REQUEST_TIMEOUT: /);
    t.is(await protocolErrors('proxy', 'ALT_REQUEST_TIMEOUT'), before + 1);
    await healthy(t);
  });
}

test.serial('HTTP/2: a request body not complete within the request timeout is a JSON 408 ALT_REQUEST_TIMEOUT, then the stream is reset', async (t) => {
  const before = await protocolErrors('proxy', 'ALT_REQUEST_TIMEOUT');
  const session = http2.connect(h.proxyUrl);
  session.on('error', () => {});
  const started = Date.now();
  const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  stream.write('{"model":"gpt-4o-mini","messages":[');
  let headers: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader = {};
  let body = '';
  stream.on('response', (h) => (headers = h));
  stream.on('data', (d: Buffer) => (body += d));
  stream.on('error', () => {});
  await new Promise((resolve) => stream.on('close', resolve));
  const ms = Date.now() - started;
  t.is(headers[':status'], 408);
  t.is(headers['x-altrace-reason'], 'ALT_REQUEST_TIMEOUT');
  t.is(headers['x-should-retry'], 'false');
  t.truthy(headers['x-altrace-request-id']);
  const json = JSON.parse(body) as { error: { code: string; message: string; altrace: { reason: string } } };
  t.is(json.error.code, 'ALT_REQUEST_TIMEOUT');
  t.regex(json.error.message, /request body was not received in time/);
  t.is(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR);
  t.true(ms >= REQUEST_TIMEOUT_MS - 50 && ms < REQUEST_TIMEOUT_MS + patience(1500), `answered after ${ms} ms`);
  t.is(await protocolErrors('proxy', 'ALT_REQUEST_TIMEOUT'), before + 1);
  // The session itself is fine: it serves the next request.
  const next = session.request({ ':method': 'GET', ':path': '/v1/models', authorization: `Bearer ${key}` });
  const status = await new Promise((resolve) => next.on('response', (h) => resolve(h[':status'])));
  next.resume();
  t.is(status, 200);
  session.close();
  await healthy(t);
});

test.serial('HTTP/2: a streamed response and a session idle between requests outlast both timeouts', async (t) => {
  const session = http2.connect(h.proxyUrl);
  session.on('error', () => {});
  h.sim.next({ fragments: Array.from({ length: 8 }, (_, i) => `f${i} `), fragmentDelayMs: 250 });
  const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', authorization: `Bearer ${key}`, 'content-type': 'application/json' });
  stream.end(JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }));
  let text = '';
  stream.on('data', (d: Buffer) => (text += d));
  await new Promise((resolve) => stream.on('close', resolve));
  t.true(text.includes('"content":"f7 "') && text.includes('[DONE]'), text.slice(-200));
  await new Promise((r) => setTimeout(r, REQUEST_TIMEOUT_MS + 200));
  t.false(session.closed || session.destroyed, 'the session is still open');
  const next = session.request({ ':method': 'GET', ':path': '/v1/models', authorization: `Bearer ${key}` });
  const status = await new Promise((resolve) => next.on('response', (h) => resolve(h[':status'])));
  next.resume();
  t.is(status, 200);
  session.close();
});

// ---- requests Node's parser accepts but answered bare (or a 500) before ----

for (const [listener, port] of [
  ['proxy', () => h.agent.proxyPort],
  ['control', () => h.agent.controlPort],
] as const) {
  test.serial(`${listener} port: an HTTP/1.1 request without Host is a JSON 400 ALT_MALFORMED_HTTP naming the header (was a bare 400)`, async (t) => {
    const before = await protocolErrors(listener, 'ALT_MALFORMED_HTTP');
    const r = await raw(port(), `GET /v1/models HTTP/1.1\r\n${AUTH}\r\n`);
    t.is(r.status, 400);
    t.is(r.headers['connection'], 'close');
    t.is(r.headers['x-altrace-reason'], 'ALT_MALFORMED_HTTP');
    t.truthy(r.headers['x-altrace-request-id']);
    t.is(r.body.error.code, 'ALT_MALFORMED_HTTP');
    t.regex(r.body.error.message, /no Host header/);
    t.is(await protocolErrors(listener, 'ALT_MALFORMED_HTTP'), before + 1);
  });
}

test.serial('HTTP/1.0 without Host, and an absolute-form target, are served; the target authority does not choose the upstream', async (t) => {
  const auth = `Authorization: Bearer ${key}\r\n`;
  const old = await raw(h.agent.proxyPort, `GET /v1/models HTTP/1.0\r\n${auth}\r\n`);
  t.is(old.status, 200);
  t.is(old.body.object, 'list');
  const before = h.sim.count();
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const absolute = await raw(
    h.agent.proxyPort,
    `POST http://elsewhere.invalid:9/v1/chat/completions HTTP/1.1\r\nHost: elsewhere.invalid\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
  );
  t.is(absolute.status, 200);
  t.truthy(absolute.body.choices[0].message.content);
  t.is(h.sim.count(), before + 1, 'the configured upstream answered');
});

test.serial('CONNECT is a JSON 405 ALT_METHOD_NOT_ALLOWED saying Altrace is not a forward proxy (was a silent close)', async (t) => {
  const r = await raw(h.agent.proxyPort, 'CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n\r\n');
  t.is(r.status, 405);
  t.is(r.headers['x-altrace-reason'], 'ALT_METHOD_NOT_ALLOWED');
  t.regex(r.body.error.message, /not a forward proxy/);
  await healthy(t);
});

test.serial('regression: a target no URL can be made of (http://[x/v1) is a 400 ALT_MALFORMED_HTTP, not a 500; over HTTP/2 //%%%/v1 is a path like any other (404)', async (t) => {
  const r = await raw(h.agent.proxyPort, `GET http://[x/v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  t.is(r.status, 400);
  t.is(r.headers['x-altrace-reason'], 'ALT_MALFORMED_HTTP');
  t.regex(r.body.error.message, /not a valid path or URL/);
  const session = http2.connect(h.proxyUrl);
  session.on('error', () => {});
  const stream = session.request({ ':method': 'GET', ':path': '//%%%/v1/models' });
  const status = await new Promise((resolve) => stream.on('response', (hd) => resolve(hd[':status'])));
  stream.resume();
  t.is(status, 404);
  session.close();
});

test.serial('an Expect the proxy cannot meet is a JSON 417 ALT_MALFORMED_HTTP (was a bare 417), and nothing is forwarded', async (t) => {
  const before = h.sim.count();
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const r = await raw(h.agent.proxyPort, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nExpect: nonsense\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
  t.is(r.status, 417);
  t.is(r.headers['x-altrace-reason'], 'ALT_MALFORMED_HTTP');
  t.regex(r.body.error.message, /Expect: nonsense cannot be met/);
  t.is(h.sim.count(), before);
});

test.serial('regression: bytes after a whole request and its Connection: close get no second answer on the proxy port (the client saw a 400 for a call that was made)', async (t) => {
  const before = h.sim.count();
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const r = await raw(h.agent.proxyPort, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}GARBAGE`);
  t.is(r.status, 200);
  t.is(r.text.match(/HTTP\/1\.1 /g)?.length, 1, r.text.slice(0, 400));
  t.is(h.sim.count(), before + 1);
});

test.serial('regression: a target starting with // is a path, not a scheme-relative URL: //x/v1/models is not served as /v1/models, //%zz/… is a 404, not a 500', async (t) => {
  const before = h.sim.count();
  const auth = `Authorization: Bearer ${key}\r\n`;
  const hostAsPath = await raw(h.agent.proxyPort, `GET //x/v1/models HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`);
  t.is(hostAsPath.status, 404);
  t.is(hostAsPath.headers['x-altrace-reason'], 'ALT_UNKNOWN_PATH');
  const badEscape = await raw(h.agent.proxyPort, `POST //%zz/responses HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
  t.is(badEscape.status, 404);
  t.is(badEscape.headers['x-altrace-reason'], 'ALT_UNKNOWN_PATH');
  const control = await raw(h.agent.controlPort, `GET //api/v1/keys HTTP/1.1\r\nHost: x\r\n${AUTH}Connection: close\r\n\r\n`);
  t.is(control.status, 404);
  t.is(control.body.error.code, 'ALT_NOT_FOUND');
  t.is(h.sim.count(), before, 'nothing reached the provider');
});

test.serial('regression: HTTP/2 request headers past the HTTP/1.1 limit are a JSON 431 ALT_HEADERS_TOO_LARGE, and never reach the provider (they did, whose parser answered a bare 431)', async (t) => {
  const before = h.sim.count();
  const session = http2.connect(h.proxyUrl);
  session.on('error', () => {});
  const ask = (extra: Record<string, string>) =>
    new Promise<{ status: unknown; reason: unknown; body: string }>((resolve) => {
      const stream = session.request({ ':method': 'POST', ':path': '/v1/chat/completions', authorization: `Bearer ${key}`, 'content-type': 'application/json', ...extra });
      let body = '';
      let head: Record<string, unknown> = {};
      stream.on('response', (hd) => (head = hd));
      stream.on('data', (d: Buffer) => (body += d));
      stream.on('close', () => resolve({ status: head[':status'], reason: head['x-altrace-reason'], body }));
      stream.end(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
    });
  const big = await ask({ 'x-big': 'a'.repeat(20_000) });
  t.is(big.status, 431);
  t.is(big.reason, 'ALT_HEADERS_TOO_LARGE');
  t.is(JSON.parse(big.body).error.code, 'ALT_HEADERS_TOO_LARGE');
  const many = await ask(Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, String(i)])));
  t.is(many.status, 431);
  const fine = await ask({ 'x-small': 'a'.repeat(2_000) });
  t.is(fine.status, 200);
  t.is(h.sim.count(), before + 1, 'only the request within the limit reached the provider');
  session.close();
});

test.serial('regression: requests pipelined before an unparsable one are answered first, in order, then its 400 (they were dropped, or the 400 came first)', async (t) => {
  const auth = `Authorization: Bearer ${key}\r\n`;
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  // The first answer takes a while upstream: the refusal must wait behind it.
  h.sim.next({ latencyMs: 300 });
  const r = await raw(
    h.agent.proxyPort,
    `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
      `GET /v1/models HTTP/1.1\r\nHost: x\r\n${auth}\r\n` +
      `FOO / HTTP/1.1\r\nHost: x\r\n\r\n`,
  );
  const statuses = [...r.text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  t.deepEqual(statuses, [200, 200, 400], r.text.slice(0, 300));
  t.true(r.text.includes('"chat.completion"'), 'the first answer is the completion');
});
