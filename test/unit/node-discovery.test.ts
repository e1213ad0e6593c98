import test from 'ava';
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DestinationResolver, parseDestination } from '../../agent/src/node/destinations.js';
import { parseDnsResponse } from '../../agent/src/node/dns-message.js';
import { parseAllowEntry } from '../../proxy/src/policy/allow-entry.js';
import { matchesInterface } from '../../agent/src/node/interfaces.js';
import { destinationSpecs, kubepodsCgroup } from '../../agent/src/node/node-enforcement.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseKubeCgroup } from '../../agent/src/node/workloads.js';
import { serverName } from '../../proxy/src/listen/transparent.js';
import { TestDnsServer } from '../fixtures/dns-server.js';

function sink() {
  const set = new Set<string>();
  const log: string[] = [];
  return {
    set,
    log,
    add: (net: string, source: string) => void (set.add(net), log.push(`+${net} ${source}`)),
    remove: (net: string) => (log.push(`-${net}`), set.delete(net)),
  };
}

test('destinations follow DNS: TTLs drive the refresh, an address leaves only after its TTL has passed', async (t) => {
  const dns = await new TestDnsServer().start();
  t.teardown(() => dns.close());
  dns.records.set('api.provider.test', [
    { address: '127.0.0.11', ttl: 1 },
    { address: '::1', ttl: 1 },
  ]);
  const resolver = new Resolver({ timeout: 500, tries: 1 });
  resolver.setServers([dns.server]);
  const s = sink();
  let now = 1_000_000;
  const r = new DestinationResolver([{ provider: 'p', host: 'api.provider.test' }, { provider: 'lit', host: '127.0.0.99' }, { provider: 'net', host: '10.9.0.0/16' }], s, { dns: resolver, minTtlS: 1, maxTtlS: 60, now: () => now });
  t.teardown(() => r.close());
  await r.start();
  t.deepEqual([...s.set].sort(), ['10.9.0.0/16', '127.0.0.11', '127.0.0.99', '::1']);
  t.is(r.providerOf('127.0.0.11'), 'p');
  t.is(r.providerOf('127.0.0.99'), 'lit');
  t.is(r.providerOf('10.9.200.1'), 'net', 'a CIDR names every address in it');
  t.is(r.providerOf('10.10.0.1'), null);

  // The name moves: the old address stays while an agent may still hold it from its cache.
  dns.records.set('api.provider.test', [{ address: '127.0.0.12', ttl: 1 }]);
  const queries = dns.queries;
  await sleep(1300);
  t.true(dns.queries > queries, 'asked again once the 1 s TTL ran out');
  t.true(s.set.has('127.0.0.12'));
  t.true(s.set.has('127.0.0.11'), 'not dropped before TTL + one minimum TTL');
  now += 2_500;
  await sleep(1200);
  t.false(s.set.has('127.0.0.11'), 'dropped once its TTL has passed');
  t.false(s.set.has('::1'));
  t.true(s.set.has('127.0.0.99'), 'literal addresses never expire');
  t.true(s.set.has('10.9.0.0/16'));
});

test('a lookup that fails keeps the addresses it had (fail closed)', async (t) => {
  const dns = await new TestDnsServer().start();
  t.teardown(() => dns.close());
  dns.records.set('api.provider.test', [{ address: '127.0.0.11', ttl: 1 }]);
  const resolver = new Resolver({ timeout: 300, tries: 1 });
  resolver.setServers([dns.server]);
  const s = sink();
  const errors: string[] = [];
  let now = 0;
  const r = new DestinationResolver([{ provider: 'p', host: 'api.provider.test' }], s, { dns: resolver, minTtlS: 1, maxTtlS: 60, now: () => now, onError: (h) => errors.push(h) });
  t.teardown(() => r.close());
  await r.start();
  dns.records.delete('api.provider.test');
  now += 60_000; // long past the address's TTL
  await sleep(1300);
  t.deepEqual(errors, ['api.provider.test']);
  t.true(s.set.has('127.0.0.11'), 'kept while the name cannot be resolved');
});

test('addresses a pod was told in a DNS answer join the set for their TTL, for provider names and patterns only', (t) => {
  const s = sink();
  let now = 0;
  const specs = [{ provider: 'p', host: 'api.provider.test' }, { provider: 'azure', host: '*.openai.azure.com' }, { provider: 'bedrock', host: 'bedrock-runtime.*.amazonaws.com' }, { provider: 'vertex', host: '*-aiplatform.googleapis.com' }];
  const r = new DestinationResolver(specs, s, { dns: { resolve4: async () => [], resolve6: async () => [] }, minTtlS: 5, maxTtlS: 300, now: () => now, observedHoldS: 0, observePrivate: true });
  t.is(r.observe('API.Provider.test.', [{ address: '10.0.0.7', ttl: 30 }]), 'p', 'case and the root dot do not matter');
  t.is(r.observe('my-res.openai.azure.com', [{ address: '10.0.0.8', ttl: 30 }, { address: 'fd00::8', ttl: 30 }]), 'azure');
  t.is(r.observe('bedrock-runtime.eu-west-1.amazonaws.com', [{ address: '10.0.0.9', ttl: 30 }]), 'bedrock');
  t.is(r.observe('s3.eu-west-1.amazonaws.com', [{ address: '10.0.0.10', ttl: 30 }]), null, 'a neighbour of a pattern is nobody\'s');
  t.is(r.observe('openai.azure.com', [{ address: '10.0.0.11', ttl: 30 }]), null, '*. needs at least one label');
  t.is(r.observe('us-central1-aiplatform.googleapis.com', [{ address: '10.0.0.13', ttl: 30 }]), 'vertex', 'a * inside a label is any run within it');
  t.is(r.observe('a.us-central1-aiplatform.googleapis.com', [{ address: '10.0.0.14', ttl: 30 }]), null, '… and never spans a dot');
  t.is(r.observe('evil-api.provider.test', [{ address: '10.0.0.12', ttl: 30 }]), null);
  t.deepEqual([...s.set].sort(), ['10.0.0.13', '10.0.0.7', '10.0.0.8', '10.0.0.9', 'fd00::8']);
  t.like(r.entries().find((e) => e.net === '10.0.0.7'), { provider: 'p', source: 'observed' });
  now += 36_000; // past TTL + the minimum TTL
  r.observe('api.provider.test', []);
  t.deepEqual([...s.set], [], 'observed addresses expire like resolved ones');
});

test('answers from pods are learned for public addresses only (unless allowed), through CNAMEs, held a day, and capped', (t) => {
  const s = sink();
  let now = 0;
  const r = new DestinationResolver([{ provider: 'p', host: 'api.provider.test' }], s, { dns: { resolve4: async () => [], resolve6: async () => [] }, minTtlS: 5, maxTtlS: 300, now: () => now, maxObserved: 3 });
  const forged = ['10.96.0.10', '127.0.0.1', '169.254.169.254', '100.64.1.1', '172.20.0.1', '192.168.1.1', '0.0.0.0', '224.0.0.1', 'fd00::1', 'fe80::1', '::1'];
  t.is(r.observe('api.provider.test', forged.map((address) => ({ address, ttl: 30 }))), 'p');
  t.deepEqual([...s.set], [], 'a forged answer cannot send cluster, loopback or link-local addresses to the proxy');
  // An alias of the provider's name: the question is not the provider's, a name in the answer is.
  t.is(r.observe(['alias.example.org', 'api.provider.test'], [{ address: '203.0.113.9', ttl: 30 }]), 'p');
  t.true(s.set.has('203.0.113.9'));
  now += 3_600_000;
  r.observe('api.provider.test', []);
  t.true(s.set.has('203.0.113.9'), 'an observed address outlives its TTL: held a day by default');
  for (const a of ['203.0.113.10', '203.0.113.11', '203.0.113.12']) r.observe('api.provider.test', [{ address: a, ttl: 30 }]);
  t.is(s.set.size, 3, 'no more observed addresses than the cap');
  t.false(s.set.has('203.0.113.9'), 'the soonest to expire went first');
  // The same net in two spellings is one entry, and a kernel that refuses an add is not taken for holding it.
  const refusing = { add: () => { throw new Error('trie full'); }, remove: () => true };
  const errors: string[] = [];
  const r2 = new DestinationResolver([{ provider: 'p', host: 'api.provider.test' }], refusing, { dns: { resolve4: async () => [], resolve6: async () => [] }, minTtlS: 5, maxTtlS: 300, onError: (h) => errors.push(h) });
  r2.observe('api.provider.test', [{ address: '203.0.113.20', ttl: 30 }]);
  t.deepEqual(r2.entries(), []);
  t.deepEqual(errors, ['203.0.113.20']);
});

test('a DNS response is read for its question and address answers, through CNAMEs and compression; junk reads as nothing', (t) => {
  const name = (n: string) => Buffer.concat([...n.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
  const header = (answers: number, flags = 0x8180) => Buffer.from([0x12, 0x34, flags >> 8, flags & 0xff, 0, 1, 0, answers, 0, 0, 0, 0]);
  const rr = (owner: Buffer, type: number, ttl: number, data: Buffer) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(type, 0);
    fixed.writeUInt16BE(1, 2);
    fixed.writeUInt32BE(ttl, 4);
    fixed.writeUInt16BE(data.length, 8);
    return Buffer.concat([owner, fixed, data]);
  };
  const question = Buffer.concat([name('api.provider.test'), Buffer.from([0, 1, 0, 1])]);
  const pointer = Buffer.from([0xc0, 12]);
  const cname = name('edge.cdn.test');
  const msg = Buffer.concat([
    header(3),
    question,
    rr(pointer, 5, 300, cname),
    rr(name('edge.cdn.test'), 1, 60, Buffer.from([10, 1, 2, 3])),
    rr(name('edge.cdn.test'), 28, 61, Buffer.from('fd000000000000000000000000000009', 'hex')),
  ]);
  t.deepEqual(parseDnsResponse(msg), { name: 'api.provider.test', names: ['api.provider.test', 'edge.cdn.test'], answers: [{ address: '10.1.2.3', ttl: 60 }, { address: 'fd00::9', ttl: 61 }] });
  t.is(parseDnsResponse(Buffer.concat([header(0, 0x0100), question])), null, 'a query is not an answer');
  t.is(parseDnsResponse(Buffer.concat([header(0, 0x8183), question])), null, 'NXDOMAIN');
  t.is(parseDnsResponse(Buffer.from([1, 2, 3])), null);
  const loop = Buffer.concat([header(1), Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
  t.is(parseDnsResponse(loop), null, 'a pointer loop ends');
  const cut = msg.subarray(0, msg.length - 5);
  t.deepEqual(parseDnsResponse(cut)?.answers, [{ address: '10.1.2.3', ttl: 60 }], 'a truncated answer keeps the records that fit');
});

test('strict allow entries and interface patterns parse, and bad ones say what is wrong', (t) => {
  t.deepEqual(parseAllowEntry('10.96.0.0/12'), { net: '10.96.0.0/12', ports: [] });
  t.deepEqual(parseAllowEntry('10.0.0.10:53'), { net: '10.0.0.10', ports: [53] });
  t.deepEqual(parseAllowEntry('[fd00::10]/64:53,443'), { net: 'fd00::10/64', ports: [53, 443] });
  t.deepEqual(parseAllowEntry('fd00::/8'), { net: 'fd00::/8', ports: [] });
  t.throws(() => parseAllowEntry('kube-dns:53'), { message: /not an address or CIDR/ });
  t.throws(() => parseAllowEntry('10.0.0.1:70000'), { message: /out of range/ });
  t.true(matchesInterface('veth12ab', ['veth*']));
  t.true(matchesInterface('cali0f3', ['veth*', 'cali*']));
  t.false(matchesInterface('eth0', ['veth*', 'cali*']));
  t.false(matchesInterface('xveth0', ['veth*']));
});

test('destination specs: provider hosts and published ranges, configured upstream hosts, extras; no duplicates', (t) => {
  const upstreams = new Map([
    ['openai', { name: 'openai', kind: 'openai' as const, base: new URL('http://10.1.2.3:8443/v1'), credentialRequired: true, models: [] }],
    ['anthropic', { name: 'anthropic', kind: 'anthropic' as const, base: new URL('https://api.anthropic.com'), credentialRequired: true, models: [] }],
    ['vllm', { name: 'vllm', kind: 'openai' as const, base: new URL('http://[fd00::5]/v1'), credentialRequired: false, models: [] }],
  ]);
  const specs = destinationSpecs(upstreams, ['10.1.2.3:443', '[fd00::6]:8000', '10.20.0.0/16', 'llm.internal', '*.inference.test']);
  const hosts = specs.map((s) => `${s.provider}=${s.host}`);
  for (const expected of ['openai=api.openai.com', 'anthropic=api.anthropic.com', 'gemini=generativelanguage.googleapis.com', 'azure=*.openai.azure.com', 'openai=10.1.2.3', 'vllm=fd00::5', 'configured=fd00::6', 'configured=10.20.0.0/16', 'configured=llm.internal', 'configured=*.inference.test']) {
    t.true(hosts.includes(expected), expected);
  }
  t.is(hosts.filter((h) => h.endsWith('=10.1.2.3')).length, 1, 'the same host once, whatever port each entry named');
  t.true(specs.some((s) => s.published && s.provider === 'anthropic'), 'published ranges are in');
  t.is(parseDestination('api.x.test:443'), 'api.x.test');
  t.is(parseDestination('[fd00::1]:443'), 'fd00::1');
  t.is(parseDestination('fd00::/64'), 'fd00::/64');
  t.throws(() => parseDestination('h:70000'), { message: /out of range/ });
  t.throws(() => parseDestination('10.0.0.0/40'), { message: /not a CIDR/ });
});

test('kubelet cgroup paths name the pod and container, for both cgroup drivers', (t) => {
  t.deepEqual(
    parseKubeCgroup('/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod3f2a9c1e_6b7d_4e21_9a0b_1c2d3e4f5a6b.slice/cri-containerd-' + 'ab'.repeat(32) + '.scope'),
    { podUid: '3f2a9c1e-6b7d-4e21-9a0b-1c2d3e4f5a6b', containerId: 'ab'.repeat(32) },
  );
  t.deepEqual(parseKubeCgroup('/kubepods/besteffort/pod3f2a9c1e-6b7d-4e21-9a0b-1c2d3e4f5a6b/' + 'cd'.repeat(32)), { podUid: '3f2a9c1e-6b7d-4e21-9a0b-1c2d3e4f5a6b', containerId: 'cd'.repeat(32) });
  t.deepEqual(parseKubeCgroup('/system.slice/agent.service'), { podUid: null, containerId: null });
});

test('the SNI of a TLS ClientHello is read from its first record; anything else gives null', (t) => {
  const name = Buffer.from('api.openai.com');
  const sni = Buffer.concat([Buffer.from([0, 0]), u16(name.length + 5), u16(name.length + 3), Buffer.from([0]), u16(name.length), name]);
  const extensions = Buffer.concat([Buffer.from([0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]), sni]); // ec_point_formats, then server_name
  const body = Buffer.concat([Buffer.from([3, 3]), Buffer.alloc(32), Buffer.from([0]), u16(2), Buffer.from([0x13, 0x01]), Buffer.from([1, 0]), u16(extensions.length), extensions]);
  const handshake = Buffer.concat([Buffer.from([1, 0]), u16(body.length), body]);
  const record = Buffer.concat([Buffer.from([0x16, 3, 1]), u16(handshake.length), handshake]);
  t.is(serverName(record), 'api.openai.com');
  t.is(serverName(record.subarray(0, 60)), null, 'cut short');
  t.is(serverName(Buffer.from('GET / HTTP/1.1\r\n\r\n')), null);
});

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

test('node.cgroup kubepods finds the pods subtree of either cgroup driver, and says so when there is none', (t) => {
  const mount = mkdtempSync(join(tmpdir(), 'altrace-cgmount-'));
  t.teardown(() => rmSync(mount, { recursive: true, force: true }));
  t.throws(() => kubepodsCgroup(mount), { code: 'ALT_NODE_ENFORCEMENT', message: /is this a Kubernetes node/ });
  mkdirSync(join(mount, 'kubepods'));
  t.is(kubepodsCgroup(mount), join(mount, 'kubepods'));
  mkdirSync(join(mount, 'kubepods.slice'));
  t.is(kubepodsCgroup(mount), join(mount, 'kubepods.slice'), 'the systemd driver first');
});
