// A fleet kill in the kernel (issue 19, item 4): a node agent in bpf mode follows a control
// plane (real PostgreSQL, a replica); the agent pod (its own netns and cgroup) is governed
// through it; a kill made on the control plane reaches the node over its stream, which refuses
// the pod's next connects with EPERM in the kernel and tears its open connection down.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { POSTGRES_SKIP_REASON, startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { call, startFleet, type Fleet } from '../helpers/fleet.js';
import { eventually } from '../helpers/harness.js';
import { patience } from '../helpers/patience.js';
import { spawnAgent, type AgentProcess } from '../helpers/process.js';
import { NetRig, type Link } from './netns.js';
import { Child, Cleanup, SKIP_REASON, TempCgroup } from './rig.js';
import { suiteOrSkip } from './suite.js';
import { SIM_PORT, startSimulator } from './node-rig.js';

const REAL_KEY = 'sk-real-key-of-the-fleet-rig';

suiteOrSkip('BPF fleet tests', SKIP_REASON ?? POSTGRES_SKIP_REASON, () => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let pg: PostgresServer;
  let fleet: Fleet;
  let node: AgentProcess;
  let pod: Link;
  let provider: Link;
  let child: Child;

  test.before(async () => {
    pg = await startPostgres();
    cleanup.add(() => pg.stop());
    fleet = await startFleet(pg, 'bpf_fleet', { replicas: 1, nodes: 0 });
    cleanup.add(() => fleet.close());
    const net = NetRig.create(cleanup);
    pod = net.namespace('pod', 1);
    provider = net.namespace('prov', 2);
    const simUrl = (await startSimulator(provider, cleanup)).url;
    const cgroup = TempCgroup.create(cleanup);
    const dir = mkdtempSync(join(tmpdir(), 'altrace-bpf-fleet-'));
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const config = join(dir, 'altrace.yaml');
    writeFileSync(config, ['node:', '  enforcement: bpf', `  cgroup: ${cgroup.path}`, `  transparent_host: ${pod.nodeAddress}`, '  transparent_port: 0', `  destinations: ["${provider.address}:443"]`, ''].join('\n'));
    node = await spawnAgent({
      ALTRACE_CONFIG: config,
      ALTRACE_STATE_DIR: join(dir, 'state'),
      ALTRACE_OPENAI_BASE_URL: `${simUrl}/v1`,
      OPENAI_API_KEY: REAL_KEY,
      ALTRACE_CONTROL_PLANE: fleet.replicas[0]!.fleetUrl,
      ALTRACE_FLEET_CA_FILE: fleet.caFile,
      ALTRACE_NODE_NAME: 'bpf-node',
      ALTRACE_BOOTSTRAP_TOKEN: fleet.enrollmentToken,
      ALTRACE_ADMIN_TOKEN: undefined,
    });
    cleanup.add(() => node.stop());
    await eventually(async () => (await fetch(`${node.controlUrl}/readyz`)).status === 200, 10_000, 'the bpf node has its first snapshot');
    child = await Child.spawn(cleanup, { cgroupProcs: join(cgroup.leaf, 'cgroup.procs'), netns: pod.netns });
  });

  test.serial('a kill made on the control plane: the pod’s connects are refused in the kernel, its open connection torn down', async (t) => {
    const created = (await (await call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'fleet-pod', team: 'rig' })).json()) as { key: string; id: string };
    await eventually(async () => (await call(node.controlUrl, 'GET', `/keys/${created.id}`)).status === 200, 5000, 'the node knows the key');
    // Governed through the node (the pod dials the provider; the kernel sends it to the proxy): the workload is the agent's from here.
    const chat = await child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: created.key });
    t.true(chat.ok, `chat: ${chat.code} ${chat.message ?? ''}`);
    const held = await child.call({ op: 'connect', host: provider.address, port: SIM_PORT, hold: true });
    t.true(held.ok);
    const limitMs = patience(5000);
    const attemptMs = patience(2000);
    const closed = child.call({ op: 'watch', conn: held.id }, limitMs * 2);
    const refused = child.call({ op: 'connect-until-refused', host: provider.address, port: SIM_PORT, limitMs, attemptMs }, limitMs + attemptMs + patience(5000));
    await new Promise((r) => setTimeout(r, 50));
    const res = await call(fleet.replicas[0]!.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'fleet-pod', reason: 'fleet bpf rig' });
    const ackNs = process.hrtime.bigint();
    t.is(res.status, 201);
    const r = await refused;
    t.is(r.code, 'EPERM', 'connect() itself fails: the kernel refuses the killed pod');
    t.log(`first refused connect began ${(Number(BigInt(r.refusedAtNs!) - ackNs) / 1e6).toFixed(2)} ms after the control plane's acknowledgement; ${r.attempts} attempts`);
    const c = await closed;
    const teardownMs = Number(BigInt(c.closedAtNs!) - ackNs) / 1e6;
    t.log(`open connection torn down ${teardownMs.toFixed(1)} ms after the acknowledgement (${c.code})`);
    t.true(teardownMs <= patience(1500), `torn down within ${patience(1500)} ms`);
    const status = (await (await call(node.controlUrl, 'GET', '/node')).json()) as { killed_cgroups?: string[] };
    t.is(status.killed_cgroups?.length, 1);
  });
});
