// Who asks the control API: the peer, or the client a trusted proxy forwards for; judged against control.allow_cidrs.
import test from 'ava';
import { canonicalAddress, parseCidr, SourcePolicy } from '../../agent/src/control/source-policy.js';

const policy = (allow: string[], trusted: string[]) => SourcePolicy.compile(allow, trusted) as SourcePolicy;

test('CIDRs and addresses of both families parse; anything else is named', (t) => {
  t.deepEqual(parseCidr('10.0.0.0/8'), { network: '10.0.0.0', prefix: 8, family: 'ipv4' });
  t.deepEqual(parseCidr('2001:DB8::/32'), { network: '2001:db8::', prefix: 32, family: 'ipv6' });
  t.deepEqual(parseCidr('192.0.2.7'), { network: '192.0.2.7', prefix: 32, family: 'ipv4' });
  t.deepEqual(parseCidr('::ffff:10.1.2.3'), { network: '10.1.2.3', prefix: 32, family: 'ipv4' });
  for (const bad of ['10.0.0.0/33', '10.0.0/8', 'example.com', '::1/129', '10.0.0.0/8/1', '', '1.2.3.4/x']) t.is(parseCidr(bad), null, bad);
  t.deepEqual(SourcePolicy.compile(['10.0.0.0/8', 'nope'], []), { field: 'control.allow_cidrs.1', value: 'nope' });
  t.deepEqual(SourcePolicy.compile([], ['::1', '10.0.0.0/40']), { field: 'control.trusted_proxies.1', value: '10.0.0.0/40' });
  t.is(SourcePolicy.compile([], []), null, 'nothing set: no address decides anything');
  t.is(canonicalAddress('::FFFF:127.0.0.1'), '127.0.0.1');
});

test('the peer is judged when no proxy forwards; v4-mapped peers as their v4 address', (t) => {
  const p = policy(['10.9.0.0/16', '2001:db8::/32'], []);
  t.like(p.judge('10.9.3.4', {}), { ok: true, address: '10.9.3.4' });
  t.like(p.judge('::ffff:10.9.3.4', {}), { ok: true, address: '10.9.3.4' });
  t.like(p.judge('2001:db8::42', {}), { ok: true });
  t.like(p.judge('203.0.113.9', {}), { ok: false, code: 'ALT_SOURCE_DENIED', address: '203.0.113.9' });
});

test('through trusted proxies the nearest address they do not account for is judged; what the client wrote to its left is not', (t) => {
  const p = policy(['10.9.0.0/16'], ['127.0.0.1/32', '172.16.0.0/12']);
  t.like(p.judge('127.0.0.1', { 'x-forwarded-for': '10.9.1.2' }), { ok: true, address: '10.9.1.2' });
  t.like(p.judge('127.0.0.1', { 'x-forwarded-for': '10.9.1.2, 172.16.4.4' }), { ok: true, address: '10.9.1.2' }, 'two proxies deep');
  t.like(p.judge('127.0.0.1', { 'x-forwarded-for': '10.9.1.2, 203.0.113.5' }), { ok: false, code: 'ALT_SOURCE_DENIED', address: '203.0.113.5' }, 'a forged allowed address to the left of the real one');
  t.like(p.judge('127.0.0.1', {}), { ok: false, code: 'ALT_SOURCE_DENIED', address: '127.0.0.1' }, 'the proxy itself, forwarding nothing');
  for (const bad of ['unknown', '_hidden', '10.9.1.2, not-an-ip', '']) t.like(p.judge('127.0.0.1', { 'x-forwarded-for': bad }), { ok: false, code: 'ALT_FORWARDED_INVALID' }, bad);
});

test('only the header the proxy writes is read: the other is the client’s own, passed through (regression: a Forwarded from the client beat the proxy’s X-Forwarded-For)', (t) => {
  const xff = policy(['10.9.0.0/16'], ['127.0.0.1/32']);
  // An nginx-style proxy appends X-Forwarded-For and passes the client's Forwarded through untouched.
  t.like(xff.judge('127.0.0.1', { 'x-forwarded-for': '203.0.113.7', forwarded: 'for=10.9.0.99' }), { ok: false, code: 'ALT_SOURCE_DENIED', address: '203.0.113.7' }, 'judged by what the proxy wrote');
  t.like(xff.judge('127.0.0.1', { forwarded: 'for=10.9.0.99' }), { ok: false, code: 'ALT_SOURCE_DENIED', address: '127.0.0.1' }, 'a Forwarded alone names nobody');
  const rfc = SourcePolicy.compile(['10.9.0.0/16'], ['127.0.0.1/32', '172.16.0.0/12'], 'forwarded') as SourcePolicy;
  t.like(rfc.judge('127.0.0.1', { forwarded: 'for=203.0.113.5, for="[2001:db8::1]:4711";proto=https' }), { ok: false, address: '2001:db8::1' });
  t.like(rfc.judge('127.0.0.1', { forwarded: 'for=10.9.0.1:1234;by=proxy', 'x-forwarded-for': '10.9.0.2' }), { ok: true, address: '10.9.0.1' });
  t.like(rfc.judge('127.0.0.1', { forwarded: 'for=203.0.113.5', 'x-forwarded-for': '10.9.0.2' }), { ok: false, code: 'ALT_SOURCE_DENIED', address: '203.0.113.5' }, 'the X-Forwarded-For a client wrote is not read');
  t.like(rfc.judge('127.0.0.1', { forwarded: 'proto=https' }), { ok: false, code: 'ALT_FORWARDED_INVALID' });
});

test('a forwarded header from a peer that is not a trusted proxy is refused, not believed', (t) => {
  const p = policy(['10.9.0.0/16'], ['127.0.0.1/32']);
  t.like(p.judge('127.0.0.2', { 'x-forwarded-for': '10.9.1.2' }), { ok: false, code: 'ALT_FORWARDED_UNTRUSTED', address: '127.0.0.2' });
  t.like(policy(['10.9.0.0/16'], []).judge('10.9.0.5', { forwarded: 'for=10.9.0.6' }), { ok: false, code: 'ALT_FORWARDED_UNTRUSTED' }, 'no proxies declared at all');
});
