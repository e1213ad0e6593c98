import test from 'ava';
import { request } from 'undici';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness({ ALTRACE_UPSTREAM_HEADERS_TIMEOUT_MS: '400', ALTRACE_UPSTREAM_BODY_TIMEOUT_MS: '400' });
  key = (await h.createKey({ agent: 'fuzzer', team: 'qa' })).key;
});
test.after.always(async () => h?.close());

async function post(path: string, body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await request(`${h.proxyUrl}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'x-api-key': key, 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.body.text();
  return { status: res.statusCode, reason: res.headers['x-altrace-reason'], json: text ? (JSON.parse(text) as any) : null };
}

const chat = (extra: object = {}) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }], ...extra });

test.serial('truncated JSON is a 400 naming the parse error, in OpenAI and Anthropic formats', async (t) => {
  const before = h.sim.count();
  const o = await post('/v1/chat/completions', '{"model":"gpt-4o-mini","messages":[{"role":');
  t.is(o.status, 400);
  t.is(o.reason, 'ALT_MALFORMED_JSON');
  t.regex(o.json.error.message, /not valid JSON/);
  const a = await post('/v1/messages', '{"model":');
  t.is(a.status, 400);
  t.is(a.json.type, 'error');
  t.is(a.json.error.type, 'invalid_request_error');
  t.is(h.sim.count(), before);
});

test.serial('a 50 MB body is refused with 413 without reading it all', async (t) => {
  const big = Buffer.alloc(50 * 1024 * 1024, 0x61);
  const r = await post('/v1/chat/completions', big);
  t.is(r.status, 413);
  t.is(r.reason, 'ALT_BODY_TOO_LARGE');
});

test.serial('wrong content type, wrong shape, unknown path, wrong method', async (t) => {
  const ct = await post('/v1/chat/completions', chat(), { 'content-type': 'text/plain' });
  t.is(ct.status, 415);
  t.is(ct.reason, 'ALT_UNSUPPORTED_MEDIA_TYPE');
  const shape = await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-4o-mini', messages: 'hello' }));
  t.is(shape.status, 400);
  t.is(shape.reason, 'ALT_INVALID_REQUEST');
  t.regex(shape.json.error.altrace.hint, /messages must be an array/);
  const path = await post('/v2/everything', chat());
  t.is(path.status, 404);
  t.is(path.reason, 'ALT_UNKNOWN_PATH');
  const method = await request(`${h.proxyUrl}/v1/chat/completions`, { method: 'GET', headers: { authorization: `Bearer ${key}` } });
  await method.body.text();
  t.is(method.statusCode, 405);
});

test.serial('models missing from the policy catalog and requests without a model', async (t) => {
  const unknown = await post('/v1/chat/completions', chat({ model: 'totally-made-up-model' }));
  t.is(unknown.status, 404);
  t.is(unknown.reason, 'ALT_MODEL_UNKNOWN');
  const none = await post('/v1/chat/completions', JSON.stringify({ messages: [] }));
  t.is(none.status, 400);
  t.is(none.reason, 'ALT_MODEL_MISSING');
});

test.serial('upstream 5xx passes through in the provider format', async (t) => {
  h.sim.next({ error: { status: 503, message: 'overloaded' } });
  const r = await post('/v1/chat/completions', chat());
  t.is(r.status, 503);
  t.is(r.json.error.message, 'overloaded');
});

test.serial('upstream timeout is a 504 with ALT_UPSTREAM_TIMEOUT', async (t) => {
  h.sim.next({ hang: true });
  const r = await post('/v1/chat/completions', chat());
  t.is(r.status, 504);
  t.is(r.reason, 'ALT_UPSTREAM_TIMEOUT');
});

test.serial('upstream reset mid-stream ends the stream with an in-stream error event', async (t) => {
  h.sim.next({ fragments: ['a ', 'b ', 'c ', 'd '], resetAfter: 2, fragmentDelayMs: 20 });
  const res = await request(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: chat({ stream: true }),
  });
  const text = await res.body.text();
  t.is(res.statusCode, 200);
  t.true(text.includes('"content":"b "'));
  t.false(text.includes('"content":"c "'));
  t.regex(text, /data: \{"error":\{.*"code":"ALT_UPSTREAM_RESET"/);
});

test.serial('upstream unreachable is a 502 in the provider format', async (t) => {
  const dead = await startHarness({ ALTRACE_ANTHROPIC_BASE_URL: 'http://127.0.0.1:9' });
  try {
    const k = (await dead.createKey({ agent: 'x', team: 'y' })).key;
    const res = await request(`${dead.proxyUrl}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': k, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-x', max_tokens: 5, messages: [] }),
    });
    const body = (await res.body.json()) as any;
    t.is(res.statusCode, 502);
    t.is(body.error.type, 'api_error');
    t.is(body.altrace.reason, 'ALT_UPSTREAM_UNREACHABLE');
  } finally {
    await dead.close();
  }
});

test.serial('a burst of bad requests leaves the proxy up and serving', async (t) => {
  const bad = [
    () => post('/v1/chat/completions', '{'),
    () => post('/v1/chat/completions', chat({ model: 'nope-model' })),
    () => post('/v1/messages', '[1,2'),
    () => post('/nowhere', '{}'),
    () => post('/v1/chat/completions', Buffer.from([0xff, 0xfe, 0xfd])),
    () => post('/v1beta/models/gemini-x:generateContent', '{"contents": 5}'),
    () => post('/model/x/converse', '{"messages": {}}'),
  ];
  const results = await Promise.all(Array.from({ length: 210 }, (_, i) => bad[i % bad.length]!()));
  t.true(results.every((r) => r.status >= 400 && r.status < 500 && typeof r.reason === 'string'));
  const ok = await post('/v1/chat/completions', chat());
  t.is(ok.status, 200);
});
