// The kill path's three defects (issue 20), each as it was found, on the netns rig:
// - a kill made while the pod's open connection is held by a process that is not the last one
//   to connect (which has exited) tears that connection down all the same;
// - with pinned maps, a restarted agent knows what the previous one killed: `bpf status` shows
//   it, and releasing the switch lets the pod connect again;
// - `bpf status` lists the workloads, shadow agents among them, and what each cgroup is bound to.
import test from 'ava';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { patience } from '../helpers/patience.js';
import { runCli } from '../helpers/process.js';
import { mountBpffs, RIG_ADMIN, startRigAgent, type RigAgent } from './agent-rig.js';
import { NetRig, type Link } from './netns.js';
import { SIM_PORT, startSimulator } from './node-rig.js';
import { Child, Cleanup, removeCgroupDir, TempCgroup } from './rig.js';
import { bpfSuite } from './suite.js';

interface StatusWorkload {
  id: string;
  cgroup: string | null;
  agent: string | null;
  team: string | null;
  pid: number;
  killed: boolean;
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let pod: Link;
  let provider: Link;
  let cgroup: TempCgroup;
  let rig: RigAgent;
  let key: string;
  let holder: Child;
  const inPod = () => ({ cgroupProcs: join(cgroup.leaf, 'cgroup.procs'), netns: pod.netns });
  const status = async () => (await (await rig.control('/node')).json()) as { killed_cgroups: string[]; workloads: StatusWorkload[]; shadow_agents: StatusWorkload[] };

  test.before(async () => {
    const net = NetRig.create(cleanup);
    pod = net.namespace('kpod', 1);
    provider = net.namespace('kprv', 2);
    const sim = await startSimulator(provider, cleanup);
    const pins = mountBpffs(cleanup);
    cgroup = TempCgroup.create(cleanup);
    rig = await startRigAgent(cleanup, { cgroup: cgroup.path, pod, simUrl: sim.url, config: [`  pin_dir: ${pins}`] });
    const res = await rig.control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'kd-agent', team: 'kd' }) });
    key = ((await res.json()) as { key: string }).key;
    holder = await Child.spawn(cleanup, inPod());
    // The governed request binds the pod's cgroup to its agent: the agent's kill reaches the kernel.
    const chat = await holder.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: key });
    if (!chat.ok) throw new Error(`chat through the rig failed: ${chat.code} ${chat.message ?? ''}`);
  });

  test.serial('a kill tears down a connection held by a process that is not the last connector (that one has exited)', async (t) => {
    const held = await holder.call({ op: 'connect', host: provider.address, port: SIM_PORT, hold: true });
    t.true(held.ok);
    // Another process of the pod connects after it and exits: the agent's last-seen pid is gone.
    const passer = await Child.spawn(cleanup, inPod());
    t.true((await passer.call({ op: 'connect', host: provider.address, port: SIM_PORT })).ok);
    for (const deadline = Date.now() + patience(2000); Date.now() < deadline; await sleep(10)) {
      if ((await status()).workloads.some((w) => w.pid === passer.pid)) break;
    }
    t.true((await status()).workloads.some((w) => w.pid === passer.pid && w.agent === 'kd-agent'), 'the agent last saw the process that then exits');
    await passer.stop();
    t.false(existsSync(`/proc/${passer.pid}`), 'the last connector is gone');

    const closed = holder.call({ op: 'watch', conn: held.id }, patience(5000));
    const res = await rig.control('/kill', { method: 'POST', body: JSON.stringify({ scope: 'agent', target: 'kd-agent', reason: 'kill defects rig' }) });
    t.is(res.status, 201);
    const c = await closed;
    t.truthy(c.closedAtNs, `the held connection was torn down (${c.code})`);
    t.like(await holder.call({ op: 'connect', host: provider.address, port: SIM_PORT }), { ok: false, code: 'EPERM' });
  });

  test.serial('with pinned maps a restarted agent knows what was killed, and unkill reaches the kernel', async (t) => {
    await rig.restart();
    const after = await status();
    t.deepEqual(after.killed_cgroups, [String(cgroup.leafId)], 'the killed cgroup is in bpf status after the restart');
    t.like(after.workloads.find((w) => w.cgroup?.endsWith('/leaf')), { agent: 'kd-agent', team: 'kd', killed: true }, 'and whose it is, from the kill ledger');
    t.like(await holder.call({ op: 'connect', host: provider.address, port: SIM_PORT }), { ok: false, code: 'EPERM' }, 'still killed: the switch was never released');
    const released = await rig.control('/kill/agent/kd-agent', { method: 'DELETE' });
    t.is(released.status, 200);
    const again = await holder.call({ op: 'connect', host: provider.address, port: SIM_PORT });
    t.true(again.ok, `after unkill the pod connects again (${again.code})`);
    t.deepEqual((await status()).killed_cgroups, []);
    const ledger = JSON.parse(readFileSync(join(rig.dir, 'state', 'node', 'killed-cgroups.json'), 'utf8')) as { killed: unknown[] };
    t.deepEqual(ledger.killed, [], 'the ledger forgets a lifted kill');
  });

  test.serial('bpf status lists every workload and what its cgroup is bound to, shadow agents among them', async (t) => {
    const shadowDir = join(cgroup.path, 'shadow');
    mkdirSync(shadowDir);
    cleanup.add(() => removeCgroupDir(shadowDir, cgroup.root));
    const shadow = await Child.spawn(cleanup, { cgroupProcs: join(shadowDir, 'cgroup.procs'), netns: pod.netns });
    t.true((await shadow.call({ op: 'connect', host: provider.address, port: SIM_PORT })).ok);
    let s = await status();
    for (const deadline = Date.now() + patience(2000); s.shadow_agents.length === 0 && Date.now() < deadline; await sleep(10)) s = await status();
    t.is(s.shadow_agents.length, 1);
    t.like(s.shadow_agents[0], { agent: null, pid: shadow.pid });
    t.true(s.shadow_agents[0]!.cgroup!.endsWith('/shadow'), 'the shadow agent names its cgroup');
    // (A workload known by its address alone has no cgroup: some may carry the agent without one.)
    t.true(s.workloads.some((w) => w.agent === 'kd-agent' && w.team === 'kd' && w.cgroup?.endsWith('/leaf') === true), 'the bound workload names its agent and team');
    const text = (await runCli(['bpf', 'status', '--url', rig.agent.controlUrl, '--token', RIG_ADMIN])).stdout;
    t.regex(text, /workloads\n/);
    t.regex(text, new RegExp(`${s.shadow_agents[0]!.id}  SHADOW  \\S+/shadow`));
    t.regex(text, /agent kd-agent \(team kd\)/);
  });
});
