// Namespace opt-in (issue 21, item 3): with kubernetes.enforce: labeled, only pods labelled
// altrace.io/enforce=true (or in a namespace so labelled) are governed; the rest of the node is
// left alone — its connects not redirected, its packets not dropped by either backstop — and a
// label switched on a namespace or a pod takes effect for running pods at once. The pod left
// alone was running before the agent started: the agent's first listing finds it.
import test from 'ava';
import { eventually } from '../helpers/harness.js';
import { SIM_PORT, type RigAgent } from './agent-rig.js';
import { startKubeRig, type KubePod, type KubeRig } from './kube-rig.js';
import type { Link } from './netns.js';
import { Cleanup } from './rig.js';
import { bpfSuite } from './suite.js';

interface Received {
  headers: Record<string, string>;
  peer: string | null;
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  let k: KubeRig & { extra: Link[]; early: KubePod[] };
  let rig: RigAgent;
  let freeLink: Link;
  let governed: KubePod;
  let free: KubePod;
  const received = async () => ((await (await fetch(`${k.simUrl}/__sim/requests`)).json()) as { received: Received[] }).received;
  const status = async () => (await (await rig.control('/node')).json()) as { kubernetes: { enforce: string; pods_not_opted_in: number }; stats: { bypassDropped: number } };
  /** A chat with a key the pod holds itself: reaches the provider directly, or the proxy refuses it (a real key). */
  const direct = (pod: KubePod) => pod.child.call({ op: 'chat', baseURL: `http://${k.provider.address}:${SIM_PORT}/v1`, apiKey: 'sk-the-pods-own-key' });

  test.before(async () => {
    k = await startKubeRig(cleanup, {
      namespaces: [
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', labels: { 'altrace.io/enforce': 'true' } } },
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'batch' } },
      ],
      env: { ALTRACE_KUBERNETES_ENFORCE: 'labeled' },
      // Each pod on its own link (its own address), both links behind the packet backstop.
      extraLinks: (net) => [net.namespace('kfr', 3)],
      config: (pod, extra) => [`  backstop_interfaces: [${pod.nodeInterface}, ${extra[0]!.nodeInterface}]`],
      // Running before the agent: the first listing must find it, or its connects would be governed.
      podsBeforeAgent: (_pod, extra) => [{ name: 'report-5c7d9b-bbbbb', namespace: 'batch', link: extra[0]! }],
    });
    freeLink = k.extra[0]!;
    rig = k.rig;
    free = k.early[0]!;
    governed = await k.startPod({ name: 'research-5c7d9b-aaaaa', annotations: { 'altrace.io/agent': 'researcher' } });
    await eventually(async () => (await status()).kubernetes.pods_not_opted_in === 1, 5000, 'the agent judged the pod that is not opted in');
  });

  test.serial('a pod of an opted-in namespace is governed; a pod of another namespace, running before the agent started, is left alone, the backstops included', async (t) => {
    t.is((await status()).kubernetes.enforce, 'labeled');
    const refused = await direct(governed);
    t.is(refused.code, '401', 'the governed pod’s own key is refused by the chain: it went to the proxy');
    const chat = await governed.child.call({ op: 'chat', baseURL: `http://${k.provider.address}:${SIM_PORT}/v1`, apiKey: 'alt-pod' });
    t.true(chat.ok, `governed as its declared agent: ${chat.code}`);

    const before = (await received()).length;
    const dropsBefore = (await status()).stats.bypassDropped;
    const left = await direct(free);
    t.true(left.ok, `the pod that is not opted in reaches the provider itself: ${left.code} ${left.message ?? ''}`);
    const fresh = (await received()).slice(before);
    t.is(fresh.length, 1);
    t.is(fresh[0]!.peer, freeLink.address, 'from its own address: not redirected');
    t.is(fresh[0]!.headers.authorization, 'Bearer sk-the-pods-own-key');
    t.is((await status()).stats.bypassDropped, dropsBefore, 'and no backstop dropped its packets');
  });

  test.serial('labelling the namespace brings its running pod under enforcement at once; the pod’s own label wins over it', async (t) => {
    k.api.update('namespaces', null, 'batch', (ns) => (ns.metadata.labels = { 'altrace.io/enforce': 'true' }));
    await eventually(async () => (await direct(free)).code === '401', 5000, 'the pod’s own key now goes to the proxy and is refused');
    t.is((await status()).kubernetes.pods_not_opted_in, 0);
    const pod = k.api.get('pods', 'batch', 'report-5c7d9b-bbbbb')!;
    k.api.update('pods', 'batch', pod.metadata.name, (p) => (p.metadata.labels = { ...p.metadata.labels, 'altrace.io/enforce': 'false' }));
    await eventually(async () => (await direct(free)).ok, 5000, 'the pod’s label takes it out again');
    t.is((await direct(governed)).code, '401', 'the other namespace is still governed');
  });
});
