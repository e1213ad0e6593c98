// The connect-time decisions on real sockets, loopback only: a child process in a temporary
// cgroup connects, and the programs redirect, refuse or leave alone what it asked for.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { BpfEnforcer, type BpfEvent } from '../../agent/src/bpf/index.js';
import { Child, Cleanup, eventually, listen, TempCgroup, type LocalServer } from './rig.js';
import { bpfSuite } from './suite.js';

const AI_HOST = '127.0.0.2';
const OTHER_HOST = '127.0.0.3';

const canListenOnV6Loopback = await new Promise<boolean>((resolve) => {
  const probe = createServer();
  probe.once('error', () => resolve(false));
  probe.listen(0, '::1', () => probe.close(() => resolve(true)));
});
if (!canListenOnV6Loopback) console.error('test/bpf/redirect: the IPv6 test is skipped: this host cannot listen on ::1');

bpfSuite(() => {
  const cleanup = new Cleanup();
  let bpf: BpfEnforcer;
  let cg: TempCgroup;
  let child: Child;
  let ai: LocalServer;
  let proxy: LocalServer;
  let other: LocalServer;
  const events: BpfEvent[] = [];

  test.before(async () => {
    bpf = BpfEnforcer.load();
    cleanup.add(() => bpf.close());
    [ai, proxy, other] = [await listen(AI_HOST, cleanup), await listen('127.0.0.1', cleanup), await listen(OTHER_HOST, cleanup)];
    bpf.addDestination(AI_HOST);
    bpf.setProxyAddress({ address: '127.0.0.1', port: proxy.port }, { allowLoopback: true });
    const subscription = bpf.events((e) => events.push(e));
    cleanup.add(() => subscription.stop());
    cg = TempCgroup.create(cleanup);
    bpf.attachCgroup(cg.path);
    child = await Child.spawn(cleanup);
    cg.enter(child.pid);
  });
  test.after.always(() => cleanup.run());

  test.serial('an AI-bound connect reaches the proxy, and both ends can name the original destination', async (t) => {
    const r = await child.call({ op: 'connect', host: AI_HOST, port: ai.port, hold: true });
    t.true(r.ok, `connect failed: ${r.code}`);
    t.deepEqual(r.remote, { address: AI_HOST, port: ai.port }, 'getpeername in the child shows what it asked for');
    const accepted = await proxy.connectionFrom(r.local!.port);
    t.is(ai.accepted.length, 0, 'the AI server itself saw nothing');
    const origin = bpf.originalDestination({ address: accepted.remoteAddress!, port: accepted.remotePort! });
    t.like(origin, { address: AI_HOST, port: ai.port, family: 4, cgroupId: cg.leafId });
    t.true(origin!.socketCookie > 0n);

    // Closing both ends takes the flow out of the map (sockops state callback).
    await child.call({ op: 'close', conn: r.id });
    accepted.destroy();
    await eventually(() => (bpf.originalDestination({ address: accepted.remoteAddress!, port: r.local!.port }) === null ? true : undefined));
    t.pass();
  });

  test.serial('a connect to a destination outside the AI set is left alone', async (t) => {
    const before = proxy.accepted.length;
    const r = await child.call({ op: 'connect', host: OTHER_HOST, port: other.port });
    t.true(r.ok);
    t.deepEqual(r.remote, { address: OTHER_HOST, port: other.port });
    await other.connectionFrom(r.local!.port);
    t.is(proxy.accepted.length, before);
    t.is(bpf.originalDestination(r.local!), null);
  });

  test.serial('a killed cgroup, its parent, or a global kill makes the connect fail with EPERM', async (t) => {
    for (const target of [cg.leafId, cg.id, 'global'] as const) {
      bpf.kill(target);
      const r = await child.call({ op: 'connect', host: AI_HOST, port: ai.port });
      bpf.unkill(target);
      t.like(r, { ok: false, code: 'EPERM' }, `kill(${String(target)})`);
    }
    t.true((await child.call({ op: 'connect', host: AI_HOST, port: ai.port })).ok, 'unkill lets it through again');
    t.true((await child.call({ op: 'connect', host: OTHER_HOST, port: other.port })).ok, 'a kill never touched non-AI traffic');
    t.true(bpf.stats().killed >= 3);
  });

  test.serial('an exempt cgroup or network namespace connects directly, but a kill still applies', async (t) => {
    for (const target of [{ cgroupId: cg.id }, { netnsCookie: BpfEnforcer.netnsCookie() }]) {
      bpf.exempt(target);
      t.teardown(() => bpf.unexempt(target));
      const r = await child.call({ op: 'connect', host: AI_HOST, port: ai.port });
      t.true(r.ok);
      await ai.connectionFrom(r.local!.port);
      t.is(bpf.originalDestination(r.local!), null, 'not redirected, so not in the flow map');
      bpf.kill(cg.leafId);
      t.like(await child.call({ op: 'connect', host: AI_HOST, port: ai.port }), { ok: false, code: 'EPERM' });
      bpf.unkill(cg.leafId);
      bpf.unexempt(target);
    }
  });

  test.serial('without a proxy address for the family an AI-bound connect fails closed', async (t) => {
    bpf.clearProxyAddress(4);
    t.teardown(() => bpf.setProxyAddress({ address: '127.0.0.1', port: proxy.port }, { allowLoopback: true }));
    t.like(await child.call({ op: 'connect', host: AI_HOST, port: ai.port }), { ok: false, code: 'EPERM' });
    t.true(bpf.stats().noProxy >= 1);
  });

  test.serial('UDP to an AI address is refused on any port, connected or not; UDP elsewhere is not', async (t) => {
    t.like(await child.call({ op: 'udp', host: AI_HOST, port: 443 }), { ok: false, code: 'EPERM' });
    t.like(await child.call({ op: 'udp', host: AI_HOST, port: 443, connected: true }), { ok: false, code: 'EPERM' });
    t.like(await child.call({ op: 'udp', host: '::ffff:127.0.0.2', port: 443 }), { ok: false, code: 'EPERM' }, 'sendmsg6 with a v4-mapped address');
    t.like(await child.call({ op: 'udp', host: AI_HOST, port: 8443 }), { ok: false, code: 'EPERM' }, 'another port of the address');
    t.like(await child.call({ op: 'udp', host: AI_HOST, port: 53, connected: true }), { ok: false, code: 'EPERM' });
    t.like(await child.call({ op: 'udp', host: OTHER_HOST, port: 443 }), { ok: true });
    t.true(bpf.stats().udpRefused >= 5);
  });

  test.serial('a v6 socket to a v4-mapped AI address goes to the v4 proxy and still sees the original', async (t) => {
    const r = await child.call({ op: 'connect', host: `::ffff:${AI_HOST}`, port: ai.port, hold: true });
    t.true(r.ok, `connect failed: ${r.code}`);
    t.deepEqual(r.remote, { address: `::ffff:${AI_HOST}`, port: ai.port });
    const accepted = await proxy.connectionFrom(r.local!.port);
    t.like(bpf.originalDestination({ address: accepted.remoteAddress!, port: accepted.remotePort! }), { address: AI_HOST, port: ai.port });
    await child.call({ op: 'close', conn: r.id });
  });

  (canListenOnV6Loopback ? test.serial : test.serial.skip)(`IPv6: an AI-bound connect to ::1 is redirected to a v6 proxy${canListenOnV6Loopback ? '' : ' (cannot run here: no ::1)'}`, async (t) => {
    const ai6 = await listen('::1', cleanup);
    const proxy6 = await listen('::1', cleanup);
    bpf.addDestination('::1');
    bpf.setProxyAddress({ address: '::1', port: proxy6.port }, { allowLoopback: true });
    const r = await child.call({ op: 'connect', host: '::1', port: ai6.port, hold: true });
    t.true(r.ok, `connect failed: ${r.code}`);
    t.deepEqual(r.remote, { address: '::1', port: ai6.port });
    const accepted = await proxy6.connectionFrom(r.local!.port);
    t.like(bpf.originalDestination({ address: '::1', port: accepted.remotePort! }), { address: '::1', port: ai6.port, family: 6 });
    t.is(ai6.accepted.length, 0);
    await child.call({ op: 'close', conn: r.id });
  });

  test.serial('a confined cgroup connects and sends only inside its egress set, on the ports it names; lifting it frees the cgroup', async (t) => {
    const allowed = await listen(OTHER_HOST, cleanup);
    const elsewhere = await listen('127.0.0.4', cleanup);
    bpf.allowEgress(7, `${OTHER_HOST}/32`, [allowed.port]);
    bpf.allowEgress(8, '127.0.0.0/8');
    t.deepEqual(bpf.egressNets().sort((a, b) => a.set - b.set), [{ set: 7, net: OTHER_HOST, ports: [allowed.port] }, { set: 8, net: '127.0.0.0/8', ports: [] }]);
    // Confining the parent covers the leaf the child is in; the deepest confined cgroup decides.
    bpf.confine(cg.id, 7);
    try {
      t.true((await child.call({ op: 'connect', host: OTHER_HOST, port: allowed.port })).ok, 'the declared address and port');
      t.like(await child.call({ op: 'connect', host: OTHER_HOST, port: other.port }), { ok: false, code: 'EPERM' }, 'the declared address on another port');
      t.like(await child.call({ op: 'connect', host: '127.0.0.4', port: elsewhere.port }), { ok: false, code: 'EPERM' }, 'loopback is not declared');
      t.like(await child.call({ op: 'connect', host: AI_HOST, port: ai.port }), { ok: false, code: 'EPERM' }, 'an AI destination outside the set');
      t.like(await child.call({ op: 'udp', host: '127.0.0.4', port: 53 }), { ok: false, code: 'EPERM' }, 'a datagram outside the set');
      bpf.confine(cg.leafId, 8);
      t.true((await child.call({ op: 'connect', host: '127.0.0.4', port: elsewhere.port })).ok, 'the leaf’s own set (a /8, any port) decides');
      t.deepEqual(bpf.confinedCgroups().sort((a, b) => Number(a.cgroupId - b.cgroupId)), [{ cgroupId: cg.id, set: 7 }, { cgroupId: cg.leafId, set: 8 }].sort((a, b) => Number(a.cgroupId - b.cgroupId)));
      const e = await eventually(() => events.find((x) => x.kind === 'egress_refused' && x.pid === child.pid && x.destination.port === other.port));
      t.like(e, { cgroupId: cg.leafId, protocol: 'tcp', destination: { address: OTHER_HOST, port: other.port } });
    } finally {
      bpf.confine(cg.leafId, null);
      bpf.confine(cg.id, null);
      bpf.disallowEgress(7, `${OTHER_HOST}/32`);
      bpf.disallowEgress(8, '127.0.0.0/8');
    }
    t.true((await child.call({ op: 'connect', host: '127.0.0.4', port: elsewhere.port })).ok, 'unconfined again');
    t.deepEqual(bpf.confinedCgroups(), []);
    t.throws(() => bpf.confine(cg.id, 0), { message: /set must be an integer from 1/ });
  });

  test.serial('ring-buffer events reach JS with the child’s pid, comm, cgroup and destination', async (t) => {
    const r = await child.call({ op: 'connect', host: AI_HOST, port: ai.port });
    t.true(r.ok);
    const e = await eventually(() => events.find((x) => x.kind === 'redirect' && x.pid === child.pid && x.destination.port === ai.port));
    const comm = readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
    t.like(e, { tid: child.pid, comm, cgroupId: cg.leafId, protocol: 'tcp', socketFamily: 4, destination: { address: AI_HOST, port: ai.port, family: 4 } });
    t.true(e.netnsCookie === BpfEnforcer.netnsCookie());
    t.truthy(events.find((x) => x.kind === 'killed' && x.pid === child.pid));
    t.truthy(events.find((x) => x.kind === 'udp_refused' && x.pid === child.pid && x.protocol === 'udp'));
    t.truthy(events.find((x) => x.kind === 'no_proxy' && x.pid === child.pid));
    const stats = bpf.stats();
    t.true(stats.events >= events.length && stats.drops === 0 && stats.eventsLost === 0);
  });
});
