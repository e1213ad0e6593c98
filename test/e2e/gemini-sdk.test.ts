import test from 'ava';
import { GoogleGenAI, ApiError } from '@google/genai';
import { CUT_TAIL as TAIL, eventually, REAL_KEYS, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness();
  key = (await h.createKey({ agent: 'analyst', team: 'bi', models: ['gemini-2.5-flash'] })).key;
});
test.after.always(async () => h?.close());

const client = (apiKey = key) => new GoogleGenAI({ apiKey, httpOptions: { baseUrl: h.proxyUrl } });

test.serial('generateContent: x-goog-api-key is swapped for the real key', async (t) => {
  const r = await client().models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
  t.is(r.text, 'Hello from the simulated provider. All systems nominal.');
  const seen = h.sim.last()!;
  t.is(seen.headers['x-goog-api-key'], REAL_KEYS.gemini);
  t.regex(seen.path, /^\/v1(beta)?\/models\/gemini-2.5-flash:generateContent$/);
});

test.serial('streamGenerateContent (SSE) arrives chunk by chunk', async (t) => {
  h.sim.next({ fragments: ['a', 'b', 'c'] });
  const stream = await client().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' });
  const parts: string[] = [];
  for await (const chunk of stream) parts.push(chunk.text ?? '');
  t.is(parts.join(''), 'abc');
  t.true(parts.length >= 3);
});

test.serial('streamGenerateContent without alt=sse is framed as the JSON array the client asked for', async (t) => {
  h.sim.next({ fragments: ['x', 'y'] });
  const res = await fetch(`${h.proxyUrl}/v1beta/models/gemini-2.5-flash:streamGenerateContent`, {
    method: 'POST',
    headers: { 'x-goog-api-key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
  });
  t.is(res.status, 200);
  const arr = JSON.parse(await res.text()) as { candidates: { content: { parts: { text: string }[] } }[] }[];
  t.is(arr.map((c) => c.candidates[0]!.content.parts[0]!.text).join(''), 'xy');
  t.is(h.sim.last()!.query.alt, 'sse');
});

test.serial('blocks are ApiError with the HTTP status and the reason in the google.rpc body', async (t) => {
  const before = h.sim.count();
  const err = await t.throwsAsync(client().models.generateContent({ model: 'gemini-2.5-pro', contents: 'hi' }));
  t.true(err instanceof ApiError);
  t.is((err as ApiError).status, 403);
  const body = JSON.parse((err as ApiError).message) as { error: { status: string; details: { reason: string }[]; altrace: { stage: string } } };
  t.is(body.error.status, 'PERMISSION_DENIED');
  t.is(body.error.details[0]!.reason, 'ALT_MODEL_NOT_ALLOWED');
  t.is(body.error.altrace.stage, 'model-scope');
  const viaQuery = await fetch(`${h.proxyUrl}/v1beta/models/gemini-2.5-flash:generateContent?key=AIzaReal`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  t.is(viaQuery.status, 401);
  t.is(viaQuery.headers.get('x-altrace-reason'), 'ALT_REAL_KEY_REJECTED');
  t.is(h.sim.count(), before);
});

test.serial('a virtual key in ?key= is accepted and never forwarded', async (t) => {
  const res = await fetch(`${h.proxyUrl}/v1beta/models/gemini-2.5-flash:generateContent?key=${key}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
  });
  t.is(res.status, 200);
  t.is(h.sim.last()!.query.key, undefined);
  t.is(h.sim.last()!.headers['x-goog-api-key'], REAL_KEYS.gemini);
});

test.serial('a denied chunk ends the stream with an in-stream error the SDK raises', async (t) => {
  h.sim.next({ fragments: ['fine ', '-----BEGIN EC PRIVATE KEY-----', ...TAIL], fragmentDelayMs: 30 });
  const stream = await client().models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hi' });
  const parts: string[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const chunk of stream) parts.push(chunk.text ?? '');
  });
  t.true(err instanceof ApiError);
  t.regex(err!.message, /ALT_RESPONSE_PATTERN_DENIED/);
  t.is(parts.join(''), 'fine ');
  t.true(await eventually(() => h.sim.last()!.closedEarly));
});
