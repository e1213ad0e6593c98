// POST /altrace/v1/evidence is on the data-plane port and is refused like every other request
// there: JSON with the reason code, the x-altrace-* and retry headers, failed keys counted and
// throttled with the provider paths, and each refusal in the audit log.
import test from 'ava';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { TestClock, WEEKDAY_NOON } from '../helpers/clocks.js';
import { raw, responseCount } from '../helpers/raw-http.js';

const LIMIT = 4;
const REQUEST_TIMEOUT_MS = 1500;
const clock = new TestClock(WEEKDAY_NOON);
let h: Harness;
let key: string;

test.before(async () => {
  h = await startHarness({ ALTRACE_AUTH_FAILURES_PER_MINUTE: String(LIMIT), ALTRACE_HEADERS_TIMEOUT_MS: '1000', ALTRACE_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS) }, { clock: clock.now });
  key = (await h.createKey({ agent: 'reporter', team: 'qa' })).key;
});
test.after.always(async () => h?.close());

const submit = (headers: Record<string, string>, body: string, method = 'POST') => fetch(`${h.proxyUrl}/altrace/v1/evidence`, { method, headers, ...(method === 'POST' ? { body } : {}) });
const valid = JSON.stringify({ run: 'run-1', evidence: [{ tool: 'lookup_order', arguments: { order_id: 'A-1' } }] });

async function metric(port: string): Promise<number> {
  const text = await (await fetch(`${h.controlUrl}/metrics`)).text();
  const m = new RegExp(`^altrace_auth_failures_total\\{port="${port}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

/** What every refusal carries, whatever refused it. */
async function refused(t: any, res: Response, status: number, reason: string, stage: string): Promise<any> {
  const body = (await res.json()) as any;
  t.is(res.status, status, reason);
  t.is(res.headers.get('x-altrace-reason'), reason);
  t.is(res.headers.get('x-altrace-stage'), stage);
  t.regex(res.headers.get('x-altrace-request-id') ?? '', /^[0-9a-f-]{36}$/);
  t.regex(res.headers.get('x-altrace-overhead-ms') ?? '', /^\d+\.\d{3}$/);
  t.is(body.error.code, reason);
  t.is(body.error.altrace.request_id, res.headers.get('x-altrace-request-id'));
  return body;
}

test.serial('regression: every refusal carries the reason code, the x-altrace-* headers and the retry signal', async (t) => {
  await refused(t, await submit({}, valid), 401, 'ALT_KEY_MISSING', 'key-identity');
  const malformed = await submit({ authorization: `Bearer ${key}` }, '{"run":');
  t.is(malformed.headers.get('x-should-retry'), 'false');
  await refused(t, malformed, 400, 'ALT_MALFORMED_JSON', 'ingress-limits');
  const noRun = await refused(t, await submit({ authorization: `Bearer ${key}` }, JSON.stringify({ evidence: [] })), 400, 'ALT_INVALID_REQUEST', 'evidence');
  t.is(noRun.error.field, 'run');
  await refused(t, await submit({ authorization: `Bearer ${key}` }, '', 'GET'), 405, 'ALT_METHOD_NOT_ALLOWED', 'ingress-limits');
  const big = await submit({ authorization: `Bearer ${key}` }, JSON.stringify({ run: 'r', pad: 'x'.repeat(70_000) }));
  t.is(big.headers.get('connection'), 'close', 'the unread rest of the body is not read as a next request');
  await refused(t, big, 413, 'ALT_BODY_TOO_LARGE', 'ingress-limits');

  t.is((await h.control('POST', '/kill', { scope: 'agent', target: 'reporter' })).status, 201);
  await refused(t, await submit({ authorization: `Bearer ${key}` }, valid), 403, 'ALT_KILLED_AGENT', 'kill-switch');
  t.is((await h.control('DELETE', '/kill/agent/reporter')).status, 200);

  const ok = await submit({ authorization: `Bearer ${key}` }, valid);
  t.is(ok.status, 200);
  t.regex(ok.headers.get('x-altrace-request-id') ?? '', /^[0-9a-f-]{36}$/);
  t.is(ok.headers.get('x-altrace-reason'), null);
});

test.serial('regression: unknown keys on the evidence endpoint are counted, throttle the source on every path, and are audited', async (t) => {
  const before = await metric('proxy');
  for (let i = 0; i < LIMIT; i++) await refused(t, await submit({ authorization: `Bearer alt-guess-${i}-${'x'.repeat(24)}` }, valid), 401, 'ALT_KEY_UNKNOWN', 'key-identity');
  t.is(await metric('proxy'), before + LIMIT);
  const throttled = await submit({ authorization: `Bearer ${key}` }, valid);
  await refused(t, throttled, 429, 'ALT_AUTH_THROTTLED', 'key-identity');
  t.true(Number(throttled.headers.get('retry-after')) > 0);
  const chat = await fetch(`${h.proxyUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  t.is(chat.status, 429, 'the provider paths count the same failures');
  await chat.text();

  type Decision = { decision: { reason: string; operation?: string; status: number } };
  const audited = async () => ((await (await h.control('GET', '/audit?kind=decision&reason=ALT_KEY_UNKNOWN')).json()) as { records: Decision[] }).records;
  await eventually(async () => (await audited()).length >= LIMIT, 3000, 'the failed keys in the audit log');
  t.true((await audited()).every((r) => r.decision.operation === 'evidence' && r.decision.status === 401));
  clock.jumpTo(clock.now() + 60_000);
  t.is((await submit({ authorization: `Bearer ${key}` }, valid)).status, 200, 'a minute later the source may submit again');
});

test.serial('regression: a body that stops arriving is answered once (408), not with a refusal followed by a 408', async (t) => {
  const r = await raw(h.agent.proxyPort, `POST /altrace/v1/evidence HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alt-nobody-${'x'.repeat(24)}\r\nContent-Length: 100\r\n\r\n{"run":`);
  t.is(responseCount(r.text), 1);
  t.is(r.status, 408);
  t.true(r.ms >= REQUEST_TIMEOUT_MS - 100);
});
