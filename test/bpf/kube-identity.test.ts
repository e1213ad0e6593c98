// Pod identity end to end (issue 21, items 1 and 2): "pods" in cgroups laid out as the kubelet
// lays them out (kubepods.slice/…-pod<uid>.slice/cri-containerd-<id>.scope), their objects in
// the stand-in API server, the agent watching them through @kubernetes/client-node. Annotations
// in, attributed decisions out: a pod that declares its agent is governed as it with no key in
// the pod, a key of another agent from it is refused, an unannotated pod is a shadow agent
// named by its pod, and an annotation added to a running pod takes effect at once.
import test from 'ava';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeApiServer, type KubeObject } from '../fixtures/kube-apiserver.js';
import { eventually } from '../helpers/harness.js';
import { SIM_PORT, startRigAgent, startSimulator, RIG_REAL_KEY, type RigAgent } from './agent-rig.js';
import { NetRig, type Link } from './netns.js';
import { Child, Cleanup, TempCgroup } from './rig.js';
import { bpfSuite } from './suite.js';

const NODE = 'rig-node';

interface KubePod {
  uid: string;
  container: string;
  cgroup: string;
  child: Child;
}

/** The kubelet's systemd-driver layout for a besteffort pod's container, under `root`. */
function kubeletCgroup(root: string, uid: string, container: string): string {
  return join(root, 'kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice`, `cri-containerd-${container}.scope`);
}

function podObject(name: string, uid: string, container: string, annotations: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'agents',
      uid,
      labels: { app: 'research', 'pod-template-hash': '5c7d9b' },
      annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'research-5c7d9b', uid: randomUUID(), controller: true }],
    },
    spec: { nodeName: NODE, serviceAccountName: 'research-sa', containers: [{ name: 'agent', image: 'agent:1' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'agent', image: 'agent:1', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${container}` }] },
  };
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let api: KubeApiServer;
  let pod: Link;
  let provider: Link;
  let rig: RigAgent;
  let declared: KubePod;
  let plain: KubePod;
  let received: () => Promise<{ headers: Record<string, string>; peer: string | null }[]>;
  let simUrl: string;

  async function startPod(root: string, name: string, annotations: Record<string, string>): Promise<KubePod> {
    const uid = randomUUID();
    const container = randomUUID().replaceAll('-', '').repeat(2);
    const cgroup = kubeletCgroup(root, uid, container);
    mkdirSync(cgroup, { recursive: true });
    cleanup.add(async () => {
      // Deepest first; a process just killed can hold its cgroup for a moment.
      for (let dir = cgroup; dir !== root; dir = join(dir, '..')) {
        if (!existsSync(dir)) continue;
        for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(root, '..', 'cgroup.procs'), pid);
        for (let i = 0; i < 50; i++) {
          try {
            rmdirSync(dir);
            break;
          } catch {
            await sleep(20);
          }
        }
      }
    });
    api.create('pods', podObject(name, uid, container, annotations));
    const child = await Child.spawn(cleanup, { cgroupProcs: join(cgroup, 'cgroup.procs'), netns: pod.netns });
    return { uid, container, cgroup, child };
  }

  test.before(async () => {
    api = await new KubeApiServer().start();
    cleanup.add(() => api.close());
    api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', annotations: { 'altrace.io/team': 'research-team' } } });
    const net = NetRig.create(cleanup);
    pod = net.namespace('ipod', 1);
    provider = net.namespace('iprv', 2);
    simUrl = (await startSimulator(provider, cleanup)).url;
    received = async () => ((await (await fetch(`${simUrl}/__sim/requests`)).json()) as { received: { headers: Record<string, string>; peer: string | null }[] }).received;
    const node = TempCgroup.create(cleanup);
    const secrets = mkdtempSync(join(tmpdir(), 'altrace-kube-token-'));
    cleanup.add(() => rmSync(secrets, { recursive: true, force: true }));
    const tokenFile = join(secrets, 'token');
    writeFileSync(tokenFile, api.token);
    rig = await startRigAgent(cleanup, {
      cgroup: node.path,
      pod,
      simUrl,
      env: {
        ALTRACE_KUBERNETES_ENABLED: 'true',
        ALTRACE_KUBERNETES_API_SERVER: api.url,
        ALTRACE_KUBERNETES_TOKEN_FILE: tokenFile,
        ALTRACE_KUBERNETES_NODE_NAME: NODE,
        ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY: 'true',
      },
    });
    declared = await startPod(node.path, 'research-5c7d9b-abcde', { 'altrace.io/agent': 'researcher', 'altrace.io/cost-center': 'cc-7' });
    plain = await startPod(node.path, 'research-5c7d9b-fghij', {});
  });

  test.serial('a pod that declares its agent is governed as it with no key in the pod; its decision names namespace, pod, owner, service account and node', async (t) => {
    const before = (await received()).length;
    const real = await declared.child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: 'sk-a-real-key-in-the-pod' });
    t.is(real.code, '401', 'a real provider key from the pod is still refused');
    // The SDK insists on a key: the pod sends the placeholder, which is no key at all.
    const governed = await declared.child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: 'alt-pod' });
    t.true(governed.ok, `governed as the declared agent: ${governed.code} ${governed.message ?? ''}`);
    const fresh = (await received()).slice(before);
    t.is(fresh.length, 1);
    t.is(fresh[0]!.headers.authorization, `Bearer ${RIG_REAL_KEY}`, 'the real credential came from the credential lane');
    const audit = (await (await rig.control('/audit?agent=researcher&limit=5')).json()) as { records: { principal?: Record<string, string>; decision?: { outcome: string } }[] };
    const allowed = audit.records.find((rec) => rec.decision?.outcome === 'allow');
    t.like(allowed?.principal, { agent: 'researcher', team: 'research-team', key_id: 'pod:agents/research-5c7d9b-abcde', pod: 'agents/research-5c7d9b-abcde', namespace: 'agents', owner: 'Deployment/research', service_account: 'research-sa', node: NODE, cost_center: 'cc-7' });
  });

  test.serial('an unannotated pod is a shadow agent named by its pod; bpf status names the pod of every workload', async (t) => {
    const r = await plain.child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: 'alt-pod' });
    t.is(r.code, '401', 'no key and no declared agent: refused');
    const status = (await (await rig.control('/node')).json()) as { shadow_agents: { id: string; agent: string | null; pod: Record<string, string> | null }[]; workloads: { agent: string | null; pod: Record<string, string | null> | null }[]; kubernetes: { synced: boolean; pods: number } };
    t.like(status.kubernetes, { synced: true, pods: 2 });
    const shadow = status.shadow_agents.find((w) => w.pod?.name === 'research-5c7d9b-fghij');
    t.is(shadow?.id, 'shadow-agents.research-5c7d9b-fghij');
    t.like(shadow?.pod, { namespace: 'agents', owner: 'Deployment/research', service_account: 'research-sa', node: NODE });
    t.true(status.workloads.some((w) => w.agent === 'researcher' && w.pod?.declared_agent === 'researcher'));
    const audit = (await (await rig.control('/audit?kind=control&limit=50')).json()) as { records: { control?: { action: string; target?: string } }[] };
    t.true(audit.records.some((rec) => rec.control?.action.startsWith('DISCOVER shadow-agent') && rec.control.target === 'shadow-agents.research-5c7d9b-fghij'), 'the discovery names the pod');
  });

  test.serial('a virtual key of another agent is refused from a pod that declares its own; its own agent’s key works', async (t) => {
    const other = ((await (await rig.control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'somebody-else', team: 'x' }) })).json()) as { key: string }).key;
    const own = ((await (await rig.control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'researcher', team: 'research-team' }) })).json()) as { key: string }).key;
    const stolen = await declared.child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: other });
    t.is(stolen.code, '403');
    t.regex(stolen.message ?? '', /ALT_KEY_POD_MISMATCH/);
    const mine = await declared.child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: own });
    t.true(mine.ok, `${mine.code} ${mine.message ?? ''}`);
  });

  test.serial('an annotation added to a running pod takes effect at once, and a kill of that agent reaches the pod’s connects in the kernel', async (t) => {
    const plainPod = api.get('pods', 'agents', 'research-5c7d9b-fghij')!;
    api.update('pods', 'agents', plainPod.metadata.name, (p) => (p.metadata.annotations = { 'altrace.io/agent': 'late-bloomer' }));
    await eventually(async () => (await plain.child.call({ op: 'chat', baseURL: `http://${provider.address}:${SIM_PORT}/v1`, apiKey: 'alt-pod' })).ok, 5000, 'the pod is governed as its newly declared agent');
    const res = await rig.control('/kill', { method: 'POST', body: JSON.stringify({ scope: 'agent', target: 'late-bloomer', reason: 'kube identity rig' }) });
    t.is(res.status, 201);
    t.like(await plain.child.call({ op: 'connect', host: provider.address, port: SIM_PORT }), { ok: false, code: 'EPERM' }, 'the declared agent’s kill is a kernel refusal for its pod');
    t.true((await declared.child.call({ op: 'connect', host: provider.address, port: SIM_PORT })).ok, 'the other pod is not touched');
    t.is((await rig.control('/kill/agent/late-bloomer', { method: 'DELETE' })).status, 200);
    t.true((await plain.child.call({ op: 'connect', host: provider.address, port: SIM_PORT })).ok);
  });
});
