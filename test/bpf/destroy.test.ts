// The iter/tcp program: established AI-bound sockets of a killed cgroup are destroyed in the
// namespace they live in; everything else survives the pass.
import test from 'ava';
import { once } from 'node:events';
import { connect } from 'node:net';
import { BpfEnforcer, type BpfEvent } from '../../agent/src/bpf/index.js';
import { Child, Cleanup, eventually, listen, TempCgroup } from './rig.js';
import { bpfSuite } from './suite.js';

const AI_HOST = '127.0.0.2';

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());

  test.serial('a kill pass destroys the killed cgroup’s AI-bound connections and nothing else', async (t) => {
    const bpf = BpfEnforcer.load();
    cleanup.add(() => bpf.close());
    const ai = await listen(AI_HOST, cleanup);
    const proxy = await listen('127.0.0.1', cleanup);
    const other = await listen('127.0.0.3', cleanup);
    bpf.addDestination(AI_HOST);
    bpf.setProxyAddress({ address: '127.0.0.1', port: proxy.port }, { allowLoopback: true });
    const events: BpfEvent[] = [];
    const subscription = bpf.events((e) => events.push(e));
    cleanup.add(() => subscription.stop());
    const cg = TempCgroup.create(cleanup);
    bpf.attachCgroup(cg.path);
    const child = await Child.spawn(cleanup);
    cg.enter(child.pid);

    // Redirected to the proxy; a direct one made while exempt (as if from before attach);
    // one to a destination outside the AI set; and one of this (unkilled) test process.
    const redirected = await child.call({ op: 'connect', host: AI_HOST, port: ai.port, hold: true });
    bpf.exempt({ cgroupId: cg.id });
    const direct = await child.call({ op: 'connect', host: AI_HOST, port: ai.port, hold: true });
    bpf.unexempt({ cgroupId: cg.id });
    const untouched = await child.call({ op: 'connect', host: '127.0.0.3', port: other.port, hold: true });
    t.true(redirected.ok && direct.ok && untouched.ok);
    const mine = connect(ai.port, AI_HOST);
    mine.on('error', () => {});
    await once(mine, 'connect');
    cleanup.add(() => mine.destroy());
    await proxy.connectionFrom(redirected.local!.port);

    const redirectEvent = await eventually(() => events.find((e) => e.kind === 'redirect' && e.pid === child.pid));
    const watched = [child.call({ op: 'watch', conn: redirected.id }), child.call({ op: 'watch', conn: direct.id })];

    const netns = `/proc/${child.pid}/ns/net`;
    t.deepEqual(await bpf.destroyKilledSockets(netns), { destroyed: 0, cookies: [] }, 'nothing is killed yet');
    bpf.kill(cg.id);
    const pass = await bpf.destroyKilledSockets(netns);
    t.is(pass.destroyed, 2);
    t.true(pass.cookies.includes(redirectEvent.socketCookie));
    const ends = await Promise.all(watched);
    t.log(`the child saw: ${ends.map((e) => e.code).join(", ")}`);
    for (const end of ends) t.true(end.code === 'ECONNABORTED' || end.code === 'ECONNRESET' || end.code === 'EPIPE' || end.code === null, `ended with ${end.code}`);
    t.like(await child.call({ op: 'alive', conn: untouched.id }), { alive: true }, 'non-AI traffic of a killed cgroup survives');
    t.false(mine.destroyed, 'AI traffic of an unkilled cgroup survives');
    t.deepEqual(await bpf.destroyKilledSockets(netns), { destroyed: 0, cookies: [] }, 'a second pass finds nothing left');
    t.true(bpf.stats().destroyed >= 2);
  });

  test.serial('a pass names the namespace it could not enter', async (t) => {
    const bpf = BpfEnforcer.load();
    cleanup.add(() => bpf.close());
    await t.throwsAsync(bpf.destroyKilledSockets('/proc/nonexistent/ns/net'), { code: 'ALT_BPF_NETNS', message: /\/proc\/nonexistent\/ns\/net/ });
    t.throws(() => void bpf.destroyKilledSockets('relative/path'), { code: 'ALT_BPF_INVALID_OPTION', message: /netnsPath/ });
  });
});
