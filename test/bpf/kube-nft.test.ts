// Pod identity in the nftables mode (node.enforcement: nftables): a forwarded packet shows no
// cgroup, so a workload is known by its pod address. A pod that declares its agent is governed
// as it with no key, and its decisions and `bpf status` name the pod, as in the bpf mode.
import test from 'ava';
import { RIG_REAL_KEY, SIM_PORT } from './agent-rig.js';
import { NODE, startKubeRig, type KubePod, type KubeRig } from './kube-rig.js';
import type { Link } from './netns.js';
import { nftSkipReason } from './node-rig.js';
import { Cleanup, SKIP_REASON } from './rig.js';
import { suiteOrSkip } from './suite.js';

suiteOrSkip('Kubernetes nftables rig', SKIP_REASON ?? nftSkipReason(), () => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let k: KubeRig & { extra: Link[] };
  let declared: KubePod;

  test.before(async () => {
    k = await startKubeRig(cleanup, { mode: 'nftables', namespaces: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', annotations: { 'altrace.io/team': 'research-team' } } }] });
    declared = await k.startPod({ name: 'research-5c7d9b-nftab', annotations: { 'altrace.io/agent': 'researcher' } });
  });

  test('a pod that declares its agent, redirected by nftables, is known by its address: governed as it with no key, its decision and its workload name the pod', async (t) => {
    const received = async () => ((await (await fetch(`${k.simUrl}/__sim/requests`)).json()) as { received: { headers: Record<string, string> }[] }).received;
    const before = (await received()).length;
    const governed = await declared.child.call({ op: 'chat', baseURL: `http://${k.provider.address}:${SIM_PORT}/v1`, apiKey: 'alt-pod' });
    t.true(governed.ok, `governed as the declared agent: ${governed.code} ${governed.message ?? ''}`);
    const fresh = (await received()).slice(before);
    t.is(fresh.length, 1);
    t.is(fresh[0]!.headers.authorization, `Bearer ${RIG_REAL_KEY}`);
    const audit = (await (await k.rig.control('/audit?agent=researcher&limit=5')).json()) as { records: { principal?: Record<string, string>; decision?: { outcome: string } }[] };
    t.like(audit.records.find((r) => r.decision?.outcome === 'allow')?.principal, { agent: 'researcher', team: 'research-team', key_id: 'pod:agents/research-5c7d9b-nftab', pod: 'agents/research-5c7d9b-nftab', node: NODE });
    const status = (await (await k.rig.control('/node')).json()) as { enforcement: string; workloads?: { id: string; agent: string | null; pod: Record<string, string | null> | null }[] };
    t.is(status.enforcement, 'nftables');
    const w = status.workloads?.find((x) => x.pod?.name === 'research-5c7d9b-nftab');
    t.like(w, { id: 'shadow-agents.research-5c7d9b-nftab', agent: 'researcher' });
  });
});
