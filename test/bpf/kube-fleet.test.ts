// A kill as a manifest reaches the kernel (issue 21, "How we will know"): a control plane over
// PostgreSQL watches the stand-in API server; a node agent in the BPF rig follows it, with
// "pods" in kubelet-laid cgroups. An AltraceKillSwitch for a pod's declared agent stops the pod's
// requests and its connects on that node; deleting it gives both back; the other pod is untouched.
import test from 'ava';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { crdManifests, GROUP, VERSION } from '../../agent/src/kube/crds.js';
import { startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { FLEET_CA_KEY, spawnReplica, type ReplicaProcess } from '../helpers/fleet.js';
import { eventually } from '../helpers/harness.js';
import { startStandIn } from '../helpers/kube.js';
import { RIG_ADMIN, SIM_PORT } from './agent-rig.js';
import { startKubeRig } from './kube-rig.js';
import { Cleanup } from './rig.js';
import { bpfSuite } from './suite.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());

  test('an AltraceKillSwitch stops a pod’s requests and its connects in the kernel; deleting it gives them back', async (t) => {
    const standIn = await startStandIn(t);
    const { api, settings } = standIn;
    for (const { object } of crdManifests()) api.installCrd(object as never);
    const pg: PostgresServer = await startPostgres();
    cleanup.add(() => pg.stop());
    const dir = mkdtempSync(join(tmpdir(), 'altrace-kube-fleet-'));
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'fleet-ca.pem');
    const replica: ReplicaProcess = await spawnReplica({
      ALTRACE_DATABASE_URL: await pg.createDatabase('kube_fleet'),
      ALTRACE_FLEET_CA_KEY: FLEET_CA_KEY,
      ALTRACE_ADMIN_TOKEN: RIG_ADMIN,
      ALTRACE_STATE_DIR: join(dir, 'replica'),
      ALTRACE_FLEET_HEARTBEAT_MS: '200',
      ALTRACE_KUBERNETES_ENABLED: 'true',
      ALTRACE_KUBERNETES_API_SERVER: settings.api_server,
      ALTRACE_KUBERNETES_TOKEN_FILE: settings.token_file,
      ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY: 'true',
      ALTRACE_KUBERNETES_RESYNC_S: '1',
      CA_OUT: caFile,
    });
    cleanup.add(() => replica.stop());
    const enroll = await fetch(`${replica.controlUrl}/api/v1/nodes/tokens`, { method: 'POST', headers: { authorization: `Bearer ${RIG_ADMIN}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'kube-rig', ttl_hours: 1 }) });
    t.is(enroll.status, 201);
    const { token } = (await enroll.json()) as { token: string };

    const k = await startKubeRig(cleanup, {
      api,
      namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents' } }],
      env: { ALTRACE_CONTROL_PLANE: replica.fleetUrl, ALTRACE_FLEET_CA_FILE: caFile, ALTRACE_BOOTSTRAP_TOKEN: token, ALTRACE_NODE_NAME: 'kube-rig-node', ALTRACE_ADMIN_TOKEN: undefined },
    });
    const killed = await k.startPod({ name: 'refunds-6f7c8d-aaaaa', annotations: { 'altrace.io/agent': 'refund-bot' } });
    const other = await k.startPod({ name: 'search-6f7c8d-bbbbb', annotations: { 'altrace.io/agent': 'search-bot' } });
    const chat = (pod: typeof killed) => pod.child.call({ op: 'chat', baseURL: `http://${k.provider.address}:${SIM_PORT}/v1`, apiKey: 'alt-pod' });
    const connect = (pod: typeof killed) => pod.child.call({ op: 'connect', host: k.provider.address, port: SIM_PORT });
    await eventually(async () => (await chat(killed)).ok, 10_000, 'the declared pod is governed through the fleet node');

    const custom = standIn.kubeConfig.makeApiClient(CustomObjectsApi);
    const kills = { group: GROUP, version: VERSION, plural: 'altracekillswitches' };
    await custom.createClusterCustomObject({ ...kills, body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'AltraceKillSwitch', metadata: { name: 'stop-refunds' }, spec: { scope: 'agent', target: 'refund-bot', reason: 'kube fleet rig' } } });
    await eventually(async () => (await connect(killed)).code === 'EPERM', 10_000, 'the kill reaches the pod’s connects in the kernel');
    t.like(await connect(killed), { ok: false, code: 'EPERM' });
    t.false((await chat(killed)).ok, 'and its requests');
    t.true((await connect(other)).ok, 'the other pod is untouched');
    t.true((await chat(other)).ok);
    const status = (await custom.getClusterCustomObject({ ...kills, name: 'stop-refunds' })) as { status?: { state?: string } };
    t.is(status.status?.state, 'Engaged');

    await custom.deleteClusterCustomObject({ ...kills, name: 'stop-refunds' });
    await eventually(async () => (await connect(killed)).ok, 10_000, 'deleting the manifest gives the connects back');
    await eventually(async () => (await chat(killed)).ok, 10_000, 'and the requests');
  });
});
