// Pod identity end to end (issue 21, items 1 and 2): "pods" in cgroups laid out as the kubelet
// lays them out (kubepods.slice/…-pod<uid>.slice/cri-containerd-<id>.scope), their objects in
// the stand-in API server, the agent watching them through @kubernetes/client-node. Annotations
// in, attributed decisions out: a pod that declares its agent is governed as it with no key in
// the pod, a key of another agent from it is refused, an unannotated pod is a shadow agent
// named by its pod, and an annotation added to a running pod takes effect at once. A pod in
// explicit base-URL mode (it dials the node proxy itself, on its own pod address) is known by
// that address: governed the same way.
import test from 'ava';
import { eventually } from '../helpers/harness.js';
import { RIG_REAL_KEY, SIM_PORT, type RigAgent } from './agent-rig.js';
import { NODE, startKubeRig, type KubePod } from './kube-rig.js';
import type { Link } from './netns.js';
import { Cleanup } from './rig.js';
import type { KubeApiServer } from '../fixtures/kube-apiserver.js';
import { bpfSuite } from './suite.js';

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let api: KubeApiServer;
  let provider: Link;
  let rig: RigAgent;
  let declared: KubePod;
  let plain: KubePod;
  let explicit: KubePod;
  let explicitBase: string;
  let received: () => Promise<{ headers: Record<string, string>; peer: string | null }[]>;

  test.before(async () => {
    const k = await startKubeRig(cleanup, {
      namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', annotations: { 'altrace.io/team': 'research-team' } } }],
      // A pod of its own address, and the proxy on the node's side of its link: explicit mode, as listen.proxy_host puts it on the node address.
      extraLinks: (net) => [net.namespace('kpx', 3)],
      env: (_pod, [own]) => ({ ALTRACE_PROXY_HOST: own!.nodeAddress }),
    });
    ({ api, provider, rig } = k);
    const link = k.extra[0]!;
    explicitBase = `http://${link.nodeAddress}:${new URL(rig.agent.proxyUrl).port}/v1`;
    explicit = await k.startPod({ name: 'summarizer-6f8d7c-klmno', link, annotations: { 'altrace.io/agent': 'summarizer' } });
    received = async () => ((await (await fetch(`${k.simUrl}/__sim/requests`)).json()) as { received: { headers: Record<string, string>; peer: string | null }[] }).received;
    declared = await k.startPod({ name: 'research-5c7d9b-abcde', annotations: { 'altrace.io/agent': 'researcher', 'altrace.io/cost-center': 'cc-7' } });
    plain = await k.startPod({ name: 'research-5c7d9b-fghij' });
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
    t.like(status.kubernetes, { synced: true, pods: 3 });
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

  test.serial('explicit mode: a pod that dials the node proxy by its base URL is known by its pod address, governed as its declared agent with no key; another agent’s key from it is refused', async (t) => {
    const before = (await received()).length;
    const governed = await explicit.child.call({ op: 'chat', baseURL: explicitBase, apiKey: 'alt-pod' });
    t.true(governed.ok, `governed as the declared agent: ${governed.code} ${governed.message ?? ''}`);
    const fresh = (await received()).slice(before);
    t.is(fresh.length, 1);
    t.is(fresh[0]!.headers.authorization, `Bearer ${RIG_REAL_KEY}`, 'the real credential came from the credential lane');
    const audit = (await (await rig.control('/audit?agent=summarizer&limit=5')).json()) as { records: { principal?: Record<string, string>; decision?: { outcome: string } }[] };
    t.like(audit.records.find((rec) => rec.decision?.outcome === 'allow')?.principal, { agent: 'summarizer', team: 'research-team', key_id: 'pod:agents/summarizer-6f8d7c-klmno', pod: 'agents/summarizer-6f8d7c-klmno', owner: 'Deployment/research', node: NODE });
    const other = ((await (await rig.control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'not-the-summarizer', team: 'x' }) })).json()) as { key: string }).key;
    const stolen = await explicit.child.call({ op: 'chat', baseURL: explicitBase, apiKey: other });
    t.is(stolen.code, '403');
    t.regex(stolen.message ?? '', /ALT_KEY_POD_MISMATCH/);
    // The same pod object, its address gone (the pod finished): nobody is known by that address any more.
    api.update('pods', 'agents', 'summarizer-6f8d7c-klmno', (p) => ((p.status as { phase: string }).phase = 'Succeeded'));
    await eventually(async () => (await explicit.child.call({ op: 'chat', baseURL: explicitBase, apiKey: 'alt-pod' })).code === '401', 5000, 'a finished pod’s address names nobody');
    api.update('pods', 'agents', 'summarizer-6f8d7c-klmno', (p) => ((p.status as { phase: string }).phase = 'Running'));
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
