// The JS half of the struct layouts and address encoding: no kernel needed, so these run
// everywhere; only the comparison with the addon's own layout needs an addon built with BPF.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressBytes, formatAddress, isLoopback } from '../../agent/src/bpf/address.js';
import { bpfUnsupportedReason } from '../../agent/src/bpf/binding.js';
import { BPF_ERROR_CODES, cgroup2Mount } from '../../agent/src/bpf/index.js';
import { checkLayout, decodeConfig, decodeEvents, encodeConfig, encodeEndpoint, LAYOUT } from '../../agent/src/bpf/layout.js';
import { native } from '../../agent/src/native.js';

const ROOT = new URL('../../../', import.meta.url).pathname;

test('addresses become 16 bytes (IPv4 v4-mapped) and come back in canonical form', (t) => {
  const cases: [string, string, string][] = [
    ['1.2.3.4', '00000000000000000000ffff01020304', '1.2.3.4'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304', '1.2.3.4'],
    ['::1', '00000000000000000000000000000001', '::1'],
    ['::', '00000000000000000000000000000000', '::'],
    ['2001:DB8:0:0:1:0:0:1', '20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    ['fd00::1', 'fd000000000000000000000000000001', 'fd00::1'],
    ['1::', '00010000000000000000000000000000', '1::'],
    ['1:2:3:4:5:6:7:8', '00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['64:ff9b::192.0.2.1', '0064ff9b0000000000000000c0000201', '64:ff9b::c000:201'],
  ];
  for (const [text, hex, canonical] of cases) {
    t.is(addressBytes(text).toString('hex'), hex, text);
    t.is(formatAddress(addressBytes(text)), canonical, text);
  }
  t.true(isLoopback('127.9.9.9') && isLoopback('::1') && isLoopback('::ffff:127.0.0.1'));
  t.false(isLoopback('10.0.0.1') || isLoopback('::2'));
});

test('an endpoint key is the address then the port in network byte order', (t) => {
  const key = encodeEndpoint({ address: '10.1.2.3', port: 443 });
  t.is(key.length, LAYOUT.endpoint.size);
  t.is(key.toString('hex'), '00000000000000000000ffff0a01020301bb0000');
});

test('the proxy config round-trips, one address per family', (t) => {
  const cfg = { v4: { address: '10.0.0.9', port: 15001 }, v6: { address: 'fd00::9', port: 15002 } };
  t.deepEqual(decodeConfig(encodeConfig(cfg)), cfg);
  t.deepEqual(decodeConfig(encodeConfig({ v4: null, v6: null })), { v4: null, v6: null });
});

test('events decode from the ring buffer’s raw records, several to a batch', (t) => {
  const e = LAYOUT.event;
  const batch = Buffer.alloc(e.size * 3);
  for (const [i, pid] of [4242, 4343].entries()) {
    const at = i * e.size;
    batch.writeBigUInt64LE(123n, at + e.timestamp_ns);
    batch.writeBigUInt64LE(77n, at + e.cgroup_id);
    batch.writeBigUInt64LE(5n, at + e.netns_cookie);
    batch.writeBigUInt64LE(9000n + BigInt(i), at + e.socket_cookie);
    batch.writeUInt32LE(pid + 1, at + e.pid);
    batch.writeUInt32LE(pid, at + e.tgid);
    encodeEndpoint({ address: '2001:db8::5', port: 443 }).copy(batch, at + e.dest);
    batch.writeUInt16LE(10, at + e.family);
    batch[at + e.verdict] = i + 1;
    batch[at + e.protocol] = 6;
    batch.write('python3', at + e.comm);
  }
  const [first, second] = decodeEvents(batch);
  t.deepEqual(first, {
    kind: 'redirect', pid: 4242, tid: 4243, comm: 'python3', cgroupId: 77n, netnsCookie: 5n, socketCookie: 9000n,
    destination: { address: '2001:db8::5', port: 443, family: 6 }, socketFamily: 6, protocol: 'tcp', timestampNs: 123n, source: null, ifindex: 0,
  });
  t.like(second, { kind: 'killed', pid: 4343 });
  // A packet the backstop dropped: no task, but the packet's source and the interface it came in on.
  const at = 2 * e.size;
  encodeEndpoint({ address: '203.0.113.9', port: 443 }).copy(batch, at + e.dest);
  encodeEndpoint({ address: '10.0.0.7', port: 40001 }).copy(batch, at + e.source);
  batch.writeUInt16LE(2, at + e.family);
  batch[at + e.verdict] = 5;
  batch[at + e.protocol] = 17;
  batch.writeUInt32LE(31, at + e.ifindex);
  t.like(decodeEvents(batch)[2], { kind: 'bypass_dropped', pid: 0, comm: '', protocol: 'udp', ifindex: 31, source: { address: '10.0.0.7', port: 40001, family: 4 }, destination: { address: '203.0.113.9', port: 443 } });
});

test('the cgroup2 mount is found in /proc/mounts format, octal escapes undone', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-mounts-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'mounts');
  writeFileSync(file, 'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/my\\040v2 cgroup2 rw 0 0\n');
  t.is(cgroup2Mount(file), '/sys/fs/cgroup/my v2');
  writeFileSync(file, 'cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n');
  t.is(cgroup2Mount(file), null);
  t.is(cgroup2Mount(join(dir, 'absent')), null);
});

const addonLayoutUnavailable = (() => {
  try {
    return bpfUnsupportedReason();
  } catch (err) {
    return (err as Error).message;
  }
})();
if (addonLayoutUnavailable !== null) console.error(`test/bpf/layout: the addon's layout check is skipped: ${addonLayoutUnavailable}`);

(addonLayoutUnavailable === null ? test : test.skip)('the addon lays the shared structs out as the encoders expect', (t) => {
  const theirs = (native() as unknown as { bpfLayout(): unknown }).bpfLayout();
  t.notThrows(() => checkLayout(theirs));
  t.throws(() => checkLayout({ ...(theirs as object), event: { size: 88 } }), { code: 'ALT_BPF_LAYOUT', message: /event\.size/ });
});

test('every ALT_BPF_ code the sources use is documented', (t) => {
  const files = [
    ...readdirSync(join(ROOT, 'native/src')).filter((f) => f.startsWith('bpf')).map((f) => join(ROOT, 'native/src', f)),
    ...readdirSync(join(ROOT, 'agent/src/bpf')).map((f) => join(ROOT, 'agent/src/bpf', f)),
  ];
  const used = new Set(files.flatMap((f) => readFileSync(f, 'utf8').match(/ALT_BPF_[A-Z_]+/g) ?? []));
  t.true(used.size > 5);
  for (const code of used) t.true(code in BPF_ERROR_CODES, `${code} is in BPF_ERROR_CODES`);
});
