// Pod identity and opt-in in the nftables mode (node.enforcement: nftables): a forwarded packet
// shows no cgroup, so a workload is known by its pod address. A pod that declares its agent is
// governed as it with no key, its decisions and `bpf status` name the pod; a pod that takes over
// an address does not inherit the last one's agent; with kubernetes.enforce: labeled, a pod not
// opted in is left alone by both chains until its namespace is labelled.
import test from 'ava';
import { eventually } from '../helpers/harness.js';
import { RIG_REAL_KEY, SIM_PORT } from './agent-rig.js';
import { NODE, startKubeRig, type KubePod, type KubeRig } from './kube-rig.js';
import type { Link } from './netns.js';
import { nftSkipReason } from './node-rig.js';
import { Cleanup, SKIP_REASON } from './rig.js';
import { suiteOrSkip } from './suite.js';

suiteOrSkip('Kubernetes nftables rig', SKIP_REASON ?? nftSkipReason(), () => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let k: KubeRig & { extra: Link[]; early: KubePod[] };
  let declared: KubePod;
  let free: KubePod;
  const received = async () => ((await (await fetch(`${k.simUrl}/__sim/requests`)).json()) as { received: { headers: Record<string, string>; peer: string | null }[] }).received;
  const chat = (pod: KubePod, apiKey: string) => pod.child.call({ op: 'chat', baseURL: `http://${k.provider.address}:${SIM_PORT}/v1`, apiKey });

  test.before(async () => {
    k = await startKubeRig(cleanup, {
      mode: 'nftables',
      env: { ALTRACE_KUBERNETES_ENFORCE: 'labeled' },
      namespaces: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', labels: { 'altrace.io/enforce': 'true' }, annotations: { 'altrace.io/team': 'research-team' } } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'batch' } },
      ],
      // The pod left alone on its own link (its own address), behind the same nftables hooks.
      extraLinks: (net) => [net.namespace('knf', 3)],
      config: (pod, extra) => [`  interfaces: [${pod.nodeInterface}, ${extra[0]!.nodeInterface}]`],
      podsBeforeAgent: (_pod, extra) => [{ name: 'report-5c7d9b-bbbbb', namespace: 'batch', link: extra[0]! }],
    });
    free = k.early[0]!;
    declared = await k.startPod({ name: 'research-5c7d9b-nftab', annotations: { 'altrace.io/agent': 'researcher' } });
  });

  test.serial('a pod that declares its agent, redirected by nftables, is known by its address: governed as it with no key, its decision and its workload name the pod', async (t) => {
    const before = (await received()).length;
    const governed = await chat(declared, 'alt-pod');
    t.true(governed.ok, `governed as the declared agent: ${governed.code} ${governed.message ?? ''}`);
    const fresh = (await received()).slice(before);
    t.is(fresh.length, 1);
    t.is(fresh[0]!.headers.authorization, `Bearer ${RIG_REAL_KEY}`);
    const audit = (await (await k.rig.control('/audit?agent=researcher&limit=5')).json()) as { records: { principal?: Record<string, string>; decision?: { outcome: string } }[] };
    t.like(audit.records.find((r) => r.decision?.outcome === 'allow')?.principal, { agent: 'researcher', team: 'research-team', key_id: 'pod:agents/research-5c7d9b-nftab', pod: 'agents/research-5c7d9b-nftab', node: NODE });
    const status = (await (await k.rig.control('/node')).json()) as { enforcement: string; workloads: { id: string; agent: string | null; pod: Record<string, string | null> | null }[] };
    t.is(status.enforcement, 'nftables');
    t.like(status.workloads.find((x) => x.pod?.name === 'research-5c7d9b-nftab'), { id: 'shadow-agents.research-5c7d9b-nftab', agent: 'researcher' });
  });

  test.serial('labelled mode: a pod not opted in (running before the agent) is left alone by both chains; labelling its namespace governs it at once', async (t) => {
    const before = (await received()).length;
    const left = await chat(free, 'sk-the-pods-own-key');
    t.true(left.ok, `not opted in: it reaches the provider itself: ${left.code} ${left.message ?? ''}`);
    const fresh = (await received()).slice(before);
    t.is(fresh[0]!.peer, k.extra[0]!.address, 'from its own address: not redirected');
    t.is(fresh[0]!.headers.authorization, 'Bearer sk-the-pods-own-key');
    k.api.update('namespaces', null, 'batch', (ns) => (ns.metadata.labels = { 'altrace.io/enforce': 'true' }));
    await eventually(async () => (await chat(free, 'sk-the-pods-own-key')).code === '401', 5000, 'its own key now goes to the proxy and is refused');
    k.api.update('namespaces', null, 'batch', (ns) => (ns.metadata.labels = {}));
    await eventually(async () => (await chat(free, 'sk-the-pods-own-key')).ok, 5000, 'unlabelled: left alone again');
  });

  test.serial('a pod that takes over an address does not inherit the last pod’s agent: without a key it is a shadow agent', async (t) => {
    k.api.delete('pods', 'agents', 'research-5c7d9b-nftab');
    const successor = await k.startPod({ name: 'research-5c7d9b-after' });
    await eventually(async () => (await chat(successor, 'alt-pod')).code === '401', 5000, 'the successor is nobody’s agent: no key, refused');
    const status = (await (await k.rig.control('/node')).json()) as { workloads: { id: string; agent: string | null }[] };
    t.like(status.workloads.find((w) => w.id === 'shadow-agents.research-5c7d9b-after'), { agent: null });
  });
});
