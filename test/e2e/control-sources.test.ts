// The control API's network allowlist (issue 24, item 4): real sockets from chosen loopback
// addresses (127.0.0.1 is the trusted proxy; 127.0.0.2 an outsider; 127.0.0.3 an allowed host),
// forwarded headers believed only from the proxy, every refusal an audit record, lockouts
// counted against the address judged.
import { request } from 'node:http';
import test from 'ava';
import { ADMIN_TOKEN, eventually, startHarness, type Harness } from '../helpers/harness.js';
import { loadConfig } from '../../agent/src/config/load.js';

let h: Harness;
let port: number;

test.before(async () => {
  h = await startHarness({ ALTRACE_CONTROL_ALLOW_CIDRS: '10.9.0.0/16, 127.0.0.3, 2001:db8::/32', ALTRACE_CONTROL_TRUSTED_PROXIES: '127.0.0.1/32', ALTRACE_AUTH_FAILURES_PER_MINUTE: '5' });
  port = Number(new URL(h.controlUrl).port);
});
test.after.always(async () => {
  await h?.close();
});

/** One control-API call from `from`, as a client bound to that loopback address sends it. */
function call(from: string, headers: Record<string, string> = {}, path = '/api/v1/keys', token = ADMIN_TOKEN, method = 'GET'): Promise<{ status: number; code?: string; message?: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, localAddress: from, headers: { authorization: `Bearer ${token}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => {
        const parsed = body.startsWith('{') ? (JSON.parse(body) as { error?: { code?: string; message?: string } }) : {};
        resolve({ status: res.statusCode!, ...(parsed.error?.code ? { code: parsed.error.code, message: parsed.error.message } : {}) });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test.serial('an allowed host is served; any other address is refused before its token is looked at', async (t) => {
  t.is((await call('127.0.0.3')).status, 200);
  const outsider = await call('127.0.0.2');
  t.like(outsider, { status: 403, code: 'ALT_SOURCE_DENIED' });
  t.regex(outsider.message!, /127\.0\.0\.2 \(control\.allow_cidrs\)/);
  t.like(await call('127.0.0.2', {}, '/api/v1/keys', 'not-a-token'), { status: 403, code: 'ALT_SOURCE_DENIED' }, 'refused before authentication');
  t.is((await call('127.0.0.2', {}, '/healthz')).status, 200, 'probes are not restricted');
});

test.serial('through the trusted proxy the client it forwards for is judged; forged or unreadable forwarding is refused', async (t) => {
  t.is((await call('127.0.0.1', { 'x-forwarded-for': '10.9.1.2' })).status, 200);
  t.like(await call('127.0.0.1', { forwarded: 'for="[2001:db8::7]:4711";proto=https' }), { status: 403, code: 'ALT_SOURCE_DENIED' }, 'the proxy writes X-Forwarded-For (control.forwarded_header): a Forwarded it passed through is the client’s, not read');
  t.like(await call('127.0.0.1', { 'x-forwarded-for': '198.51.100.9', forwarded: 'for=10.9.1.2' }), { status: 403, code: 'ALT_SOURCE_DENIED' }, 'regression: a client’s Forwarded does not override the proxy’s X-Forwarded-For');
  t.like(await call('127.0.0.1', { 'x-forwarded-for': '10.9.1.2, 198.51.100.7' }), { status: 403, code: 'ALT_SOURCE_DENIED' }, 'an allowed address written by the client, left of its real one');
  t.like(await call('127.0.0.1'), { status: 403, code: 'ALT_SOURCE_DENIED' }, 'the proxy forwarding nothing is judged as itself');
  t.like(await call('127.0.0.1', { 'x-forwarded-for': 'unknown' }), { status: 400, code: 'ALT_FORWARDED_INVALID' });
  const forged = await call('127.0.0.2', { 'x-forwarded-for': '10.9.1.2' });
  t.like(forged, { status: 400, code: 'ALT_FORWARDED_UNTRUSTED' });
  t.regex(forged.message!, /127\.0\.0\.2, which is not a trusted proxy/);
});

test.serial('every refusal is an audit record naming the address and the reason', async (t) => {
  await call('127.0.0.2', { 'x-forwarded-for': '10.9.1.2' });
  await call('127.0.0.1', { 'x-forwarded-for': '198.51.100.77' });
  await h.control('GET', '/audit/checkpoint').catch(() => undefined);
  type Rec = { control?: { operator: string; action: string; target?: string; status: number; error?: string } };
  let records: Rec[] = [];
  await eventually(async () => {
    records = ((await (await fetchFrom('127.0.0.3', '/api/v1/audit?limit=1000')).json()) as { records: Rec[] }).records;
    return records.some((r) => r.control?.target === '198.51.100.77');
  }, 5000, 'the refusals are in the audit log');
  t.true(records.some((r) => r.control?.error === 'ALT_SOURCE_DENIED' && r.control.target === '198.51.100.77' && r.control.status === 403 && r.control.operator === '(unauthenticated)'));
  t.true(records.some((r) => r.control?.error === 'ALT_FORWARDED_UNTRUSTED' && r.control.target === '127.0.0.2' && r.control.status === 400));
});

test.serial('failed tokens count against the address judged: a client behind the proxy is locked out, another behind it is not', async (t) => {
  for (let i = 0; i < 6; i++) await call('127.0.0.1', { 'x-forwarded-for': '10.9.7.7' }, '/api/v1/keys', `wrong-${i}`);
  t.like(await call('127.0.0.1', { 'x-forwarded-for': '10.9.7.7' }), { status: 429, code: 'ALT_AUTH_THROTTLED' }, 'even with the right token now');
  t.is((await call('127.0.0.1', { 'x-forwarded-for': '10.9.8.8' })).status, 200, 'the proxy itself is not locked out for its client');
  // The lockout is an audit record, listed for an admin, and lifted by one.
  const { lockouts } = (await (await fetchFrom('127.0.0.3', '/api/v1/lockouts')).json()) as { lockouts: { source: string; retry_after_s: number }[] };
  t.true(lockouts.some((l) => l.source === '10.9.7.7' && l.retry_after_s > 0), JSON.stringify(lockouts));
  type Rec = { control?: { action: string; target?: string; status: number } };
  const records = ((await (await fetchFrom('127.0.0.3', '/api/v1/audit?limit=1000')).json()) as { records: Rec[] }).records;
  t.true(records.some((r) => r.control?.action === 'LOCKOUT' && r.control.target === '10.9.7.7'));
  t.is((await call('127.0.0.3', {}, '/api/v1/lockouts/10.9.7.7', ADMIN_TOKEN, 'DELETE')).status, 200);
  t.is((await call('127.0.0.1', { 'x-forwarded-for': '10.9.7.7' })).status, 200, 'served again once lifted');
  t.like(await call('127.0.0.3', {}, '/api/v1/lockouts/10.9.7.7', ADMIN_TOKEN, 'DELETE'), { status: 404, code: 'ALT_NOT_FOUND' });
});

test.serial('one token tried from many addresses is locked out by its prefix, each address under its own limit; the lockout names the token, and an admin lifts it', async (t) => {
  const stolen = 'altop-Stolen12-and-the-rest-guessed';
  for (let i = 1; i <= 5; i++) t.is((await call('127.0.0.1', { 'x-forwarded-for': `10.9.20.${i}` }, '/api/v1/keys', `${stolen}-${i}`)).status, 401);
  const locked = await call('127.0.0.1', { 'x-forwarded-for': '10.9.20.99' }, '/api/v1/keys', `${stolen}-99`);
  t.like(locked, { status: 429, code: 'ALT_AUTH_THROTTLED' }, 'a sixth address, never seen, is refused for the token');
  t.regex(locked.message!, /starting altop-Stolen12/);
  t.is((await call('127.0.0.1', { 'x-forwarded-for': '10.9.20.99' })).status, 200, 'the same address with another token is served');
  const { lockouts } = (await (await fetchFrom('127.0.0.3', '/api/v1/lockouts')).json()) as { lockouts: { source: string }[] };
  t.true(lockouts.some((l) => l.source === 'token:altop-Stolen12'), JSON.stringify(lockouts));
  t.is((await call('127.0.0.3', {}, `/api/v1/lockouts/${encodeURIComponent('token:altop-Stolen12')}`, ADMIN_TOKEN, 'DELETE')).status, 200);
  t.is((await call('127.0.0.1', { 'x-forwarded-for': '10.9.20.100' }, '/api/v1/keys', `${stolen}-100`)).status, 401, 'looked at again once lifted');
});

test.serial('a thousand wrong tokens from one address: the first few are looked at and audited, the rest refused unread; another address is served throughout', async (t) => {
  const started = Date.now();
  const statuses = new Map<number, number>();
  for (let i = 0; i < 1000; i++) {
    const s = (await call('127.0.0.1', { 'x-forwarded-for': '10.9.40.1' }, '/api/v1/keys', `altop-g${i}`)).status;
    statuses.set(s, (statuses.get(s) ?? 0) + 1);
    if (i % 250 === 0) t.is((await call('127.0.0.1', { 'x-forwarded-for': '10.9.40.2' })).status, 200, 'another address is served');
  }
  const elapsed = Date.now() - started;
  t.log(`1,000 wrong tokens answered in ${elapsed} ms: ${JSON.stringify(Object.fromEntries(statuses))}`);
  // The bucket refills at 5 a minute: a slow machine may look at one more every 12 s.
  const lookedAt = statuses.get(401)!;
  t.true(lookedAt >= 5 && lookedAt <= 5 + Math.floor(elapsed / 12_000), `as many looked at as the limit: ${lookedAt}`);
  t.is(statuses.get(429), 1000 - lookedAt, 'the rest refused before their token is read');
  type Rec = { control?: { action: string; target?: string; error?: string } };
  const records = ((await (await fetchFrom('127.0.0.3', '/api/v1/audit?limit=1000')).json()) as { records: Rec[] }).records;
  t.is(records.filter((r) => r.control?.target === '10.9.40.1' && r.control.error === 'ALT_UNAUTHENTICATED').length, lookedAt, 'the audit log holds the looked-at failures, not a record per guess');
  t.true(records.some((r) => r.control?.action === 'LOCKOUT' && r.control.target === '10.9.40.1'));
});

test('a list entry that is not an address or CIDR refuses the configuration, naming it', (t) => {
  const err = t.throws(() => loadConfig({ env: { ALTRACE_CONTROL_ALLOW_CIDRS: '10.0.0.0/8,10.300.0.0/16' } }));
  t.regex(err!.message, /control\.allow_cidrs\.1 "10\.300\.0\.0\/16" is not an IPv4 or IPv6 address or CIDR/);
  t.throws(() => loadConfig({ env: { ALTRACE_CONTROL_TRUSTED_PROXIES: 'proxy.internal' } }), { message: /control\.trusted_proxies\.0/ });
});

function fetchFrom(from: string, path: string): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress: from, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: res.statusCode! })));
    });
    req.on('error', reject);
    req.end();
  });
}
