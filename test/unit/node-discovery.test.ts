import test from 'ava';
import { Resolver } from 'node:dns/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DestinationResolver, parseHostPort } from '../../agent/src/node/destinations.js';
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
    add: (a: string, p: number) => void (set.add(`${a}:${p}`), log.push(`+${a}:${p}`)),
    remove: (a: string, p: number) => (log.push(`-${a}:${p}`), set.delete(`${a}:${p}`)),
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
  const r = new DestinationResolver([{ provider: 'p', host: 'api.provider.test', port: 443 }, { provider: 'lit', host: '127.0.0.99', port: 8443 }], s, { dns: resolver, minTtlS: 1, maxTtlS: 60, now: () => now });
  t.teardown(() => r.close());
  await r.start();
  t.deepEqual([...s.set].sort(), ['127.0.0.11:443', '127.0.0.99:8443', '::1:443']);
  t.is(r.providerOf('127.0.0.11', 443), 'p');
  t.is(r.providerOf('127.0.0.99', 8443), 'lit');

  // The name moves: the old address stays while an agent may still hold it from its cache.
  dns.records.set('api.provider.test', [{ address: '127.0.0.12', ttl: 1 }]);
  const queries = dns.queries;
  await sleep(1300);
  t.true(dns.queries > queries, 'asked again once the 1 s TTL ran out');
  t.true(s.set.has('127.0.0.12:443'));
  t.true(s.set.has('127.0.0.11:443'), 'not dropped before TTL + one minimum TTL');
  now += 2_500;
  await sleep(1200);
  t.false(s.set.has('127.0.0.11:443'), 'dropped once its TTL has passed');
  t.false(s.set.has('::1:443'));
  t.true(s.set.has('127.0.0.99:8443'), 'literal addresses never expire');
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
  const r = new DestinationResolver([{ provider: 'p', host: 'api.provider.test', port: 443 }], s, { dns: resolver, minTtlS: 1, maxTtlS: 60, now: () => now, onError: (h) => errors.push(h) });
  t.teardown(() => r.close());
  await r.start();
  dns.records.delete('api.provider.test');
  now += 60_000; // long past the address's TTL
  await sleep(1300);
  t.deepEqual(errors, ['api.provider.test']);
  t.true(s.set.has('127.0.0.11:443'), 'kept while the name cannot be resolved');
});

test('destination specs: provider hosts, configured upstream hosts with their ports, extras; no duplicates', (t) => {
  const upstreams = new Map([
    ['openai', { name: 'openai', kind: 'openai' as const, base: new URL('http://10.1.2.3:8443/v1'), credentialRequired: true, models: [] }],
    ['anthropic', { name: 'anthropic', kind: 'anthropic' as const, base: new URL('https://api.anthropic.com'), credentialRequired: true, models: [] }],
    ['vllm', { name: 'vllm', kind: 'openai' as const, base: new URL('http://[fd00::5]/v1'), credentialRequired: false, models: [] }],
  ]);
  const specs = destinationSpecs(upstreams, ['10.1.2.3:443', '[fd00::6]:8000']);
  t.deepEqual(
    specs.map((s) => `${s.provider}=${s.host}:${s.port}`),
    ['openai=api.openai.com:443', 'anthropic=api.anthropic.com:443', 'gemini=generativelanguage.googleapis.com:443', 'openai=10.1.2.3:8443', 'vllm=fd00::5:80', 'configured=10.1.2.3:443', 'configured=fd00::6:8000'],
  );
  t.throws(() => parseHostPort('no-port'), { message: /not host:port/ });
  t.throws(() => parseHostPort('h:70000'), { message: /out of range/ });
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
