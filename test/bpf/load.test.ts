// Loading, the verifier, and the maps userspace drives, without any traffic.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfEnforcer, BpfError } from '../../agent/src/bpf/index.js';
import { Cleanup } from './rig.js';
import { bpfSuite } from './suite.js';

const PROGRAMS = ['alt_backstop', 'alt_connect4', 'alt_connect6', 'alt_destroy', 'alt_dns_ingress', 'alt_getpeer4', 'alt_getpeer6', 'alt_sendmsg4', 'alt_sendmsg6', 'alt_skb_egress', 'alt_sockops'];

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  const load = (options?: { pinDir?: string }) => {
    const bpf = BpfEnforcer.load(options);
    cleanup.add(() => bpf.close());
    return bpf;
  };

  test.serial('every program loads and passes the verifier on this kernel', (t) => {
    const programs = load().programs();
    t.deepEqual(programs.map((p) => p.name).sort(), PROGRAMS);
    for (const p of programs) t.true(p.id > 0, `${p.name} has a kernel id`);
    t.like(programs.find((p) => p.name === 'alt_destroy'), { section: 'iter/tcp' });
  });

  test.serial('AI destinations: addresses and CIDRs, matched by longest prefix in either spelling of IPv4, listed, removed', (t) => {
    const bpf = load();
    bpf.addDestination('203.0.113.7');
    t.true(bpf.coversDestination('203.0.113.7'));
    t.true(bpf.coversDestination('::ffff:203.0.113.7'), 'v4-mapped is the same key');
    t.false(bpf.coversDestination('203.0.113.8'), 'a host entry covers that address only');
    bpf.addDestination('198.51.100.0/24', 'published');
    t.true(bpf.coversDestination('198.51.100.200'), 'a CIDR covers every address in it');
    t.false(bpf.coversDestination('198.51.101.1'));
    bpf.addDestination('2001:db8::1');
    t.true(bpf.coversDestination('2001:DB8:0:0::1'));
    bpf.addDestination('2001:db8:aa::/48');
    t.true(bpf.coversDestination('2001:db8:aa:1::5'));
    t.deepEqual(bpf.destinationNets().sort(), ['198.51.100.0/24', '2001:db8::1', '2001:db8:aa::/48', '203.0.113.7']);
    t.true(bpf.removeDestination('203.0.113.7'));
    t.false(bpf.removeDestination('203.0.113.7'), 'removing twice reports it was absent');
    t.false(bpf.coversDestination('203.0.113.7'));
  });

  test.serial('kill and unkill, per cgroup and global; exempt and unexempt', (t) => {
    const bpf = load();
    bpf.kill(42n);
    bpf.kill('global');
    t.true(bpf.isKilled(42n) && bpf.isKilled('global'));
    t.false(bpf.isKilled(43n));
    t.true(bpf.unkill('global'));
    t.false(bpf.isKilled('global'));
    t.true(bpf.isKilled(42n), 'a global unkill leaves cgroup kills alone');
    t.true(bpf.unkill(42n));
    t.false(bpf.unkill(42n));
    bpf.exempt({ cgroupId: 7n });
    bpf.exempt({ netnsCookie: BpfEnforcer.netnsCookie() });
    t.true(bpf.unexempt({ cgroupId: 7n }));
    t.false(bpf.unexempt({ cgroupId: 7n }));
    t.true(bpf.unexempt({ netnsCookie: BpfEnforcer.netnsCookie('/proc/self/ns/net') }), 'the same cookie read from inside the namespace');
  });

  test.serial('the proxy address: one per family, loopback refused unless allowed', (t) => {
    const bpf = load();
    t.deepEqual(bpf.proxyAddress(), { v4: null, v6: null });
    bpf.setProxyAddress({ address: '10.0.0.1', port: 15001 });
    bpf.setProxyAddress({ address: 'fd00::1', port: 15002 });
    t.deepEqual(bpf.proxyAddress(), { v4: { address: '10.0.0.1', port: 15001 }, v6: { address: 'fd00::1', port: 15002 } });
    bpf.clearProxyAddress(6);
    t.deepEqual(bpf.proxyAddress(), { v4: { address: '10.0.0.1', port: 15001 }, v6: null });
    t.throws(() => bpf.setProxyAddress({ address: '127.0.0.1', port: 1 }), { code: 'ALT_BPF_INVALID_OPTION', message: /proxy\.address.*loopback/ });
    t.throws(() => bpf.setProxyAddress({ address: '::1', port: 1 }), { code: 'ALT_BPF_INVALID_OPTION' });
    t.throws(() => bpf.setProxyAddress({ address: '0.0.0.0', port: 1 }), { code: 'ALT_BPF_INVALID_OPTION', message: /concrete/ });
  });

  test.serial('arguments are validated in JS and the error names the option', (t) => {
    const bpf = load();
    const invalid = (fn: () => unknown, option: string) => {
      const err = t.throws<BpfError>(fn, { instanceOf: BpfError, code: 'ALT_BPF_INVALID_OPTION' });
      t.is(err?.option, option);
      t.regex(err?.message ?? '', new RegExp(`^${option.replace(/[.[\]]/g, '\\$&')} `));
    };
    invalid(() => bpf.addDestination('api.openai.com'), 'net');
    invalid(() => bpf.addDestination('fe80::1%eth0'), 'net');
    invalid(() => bpf.addDestination('10.0.0.0/33'), 'net');
    invalid(() => bpf.addDestination('10.0.0.1/24'), 'net');
    invalid(() => bpf.addDestination('1.2.3.4', 'somewhere' as never), 'source');
    invalid(() => bpf.allow('10.0.0.0/8', [0]), 'ports[0]');
    invalid(() => bpf.watchInterface(0), 'ifindex');
    invalid(() => bpf.coversDestination('1.2.3'), 'address');
    invalid(() => bpf.kill(0n), 'target');
    invalid(() => bpf.kill(1n << 64n), 'target');
    invalid(() => bpf.exempt({ cgroupId: -1n }), 'target.cgroupId');
    invalid(() => bpf.exempt({} as never), 'target');
    invalid(() => bpf.setProxyAddress({ address: '10.0.0.1', port: 70000 }), 'proxy.port');
    invalid(() => bpf.originalDestination({ address: 'x', port: 1 }), 'peer.address');
    invalid(() => bpf.attachCgroup('cgroup'), 'path');
    invalid(() => bpf.events(null as never), 'onEvent');
    invalid(() => BpfEnforcer.load({ pinDir: 'relative' }), 'pinDir');
  });

  test.serial('failures of the kernel side carry their code and errno', (t) => {
    t.throws(() => BpfEnforcer.load({ pinDir: tmpdir() }), { code: 'ALT_BPF_LOAD', message: /loading the BPF programs/ }, 'pins need bpffs');
    const bpf = load();
    t.like(t.throws(() => bpf.attachCgroup(tmpdir()), { instanceOf: BpfError, code: 'ALT_BPF_ATTACH' }), { errno: 9 }, 'not a cgroup: EBADF');
    t.throws(() => bpf.attachCgroup('/nonexistent/cgroup'), { code: 'ALT_BPF_ATTACH', message: /cannot open the cgroup/ });
  });

  test.serial('close is idempotent and a closed object says so', (t) => {
    const bpf = BpfEnforcer.load();
    bpf.close();
    bpf.close();
    t.throws(() => bpf.addDestination('1.2.3.4'), { code: 'ALT_BPF_CLOSED' });
    t.throws(() => bpf.stats(), { code: 'ALT_BPF_CLOSED' });
  });

  test.serial('maps pin to bpffs, are reused from there by the next load, and unpin', (t) => {
    const mount = mkdtempSync(join(tmpdir(), 'altrace-bpffs-'));
    cleanup.add(() => rmdirSync(mount));
    execFileSync('mount', ['-t', 'bpf', 'bpf', mount]);
    cleanup.add(() => execFileSync('umount', [mount]));

    const first = load({ pinDir: mount });
    first.kill(99n);
    first.addDestination('198.51.100.1');
    t.true(readdirSync(mount).includes('alt_deny'));
    first.close();
    const second = load({ pinDir: mount });
    t.true(second.isKilled(99n), 'kill state survived the first object');
    t.true(second.coversDestination('198.51.100.1'));
    t.deepEqual(second.killed(), [99n], 'the deny map lists what the first object killed');
    second.unpinMaps(mount);
    // A bpffs root also lists the kernel's own maps.debug and progs.debug.
    t.deepEqual(readdirSync(mount).filter((n) => n.startsWith('alt_')), []);

    t.throws(() => second.pinMaps(join(mount, 'elsewhere')), { code: 'ALT_BPF_INVALID_OPTION', message: /^dir must be/ });

    const third = load();
    const dir = join(mount, 'later');
    mkdirSync(dir);
    cleanup.add(() => existsSync(dir) && rmdirSync(dir));
    third.pinMaps(dir);
    t.true(readdirSync(dir).includes('alt_events'));
    third.unpinMaps(dir);
    t.deepEqual(readdirSync(dir), []);
  });

  test.serial('stats start at zero', (t) => {
    t.deepEqual(load().stats(), { redirects: 0, killed: 0, udpRefused: 0, noProxy: 0, exempt: 0, events: 0, drops: 0, destroyed: 0, bypassDropped: 0, strictRefused: 0, strictDropped: 0, dnsSeen: 0, eventsLost: 0 });
  });
});
