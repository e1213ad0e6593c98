// This node's pods through the real @kubernetes/client-node, against the stand-in API server:
// identity from pods and namespaces (owner, service account, annotations), and the watch
// surviving what clusters do to it — 410 Gone, a silent watch, the API server restarting.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeConfigFor } from '../../agent/src/kube/kube-config.js';
import { PodCache } from '../../agent/src/kube/pod-cache.js';
import { KubeApiServer, type KubeObject } from '../fixtures/kube-apiserver.js';
import { eventually } from '../helpers/harness.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silent; } } as never;

function pod(name: string, node: string, extra: { namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string>; owner?: { kind: string; name: string }; container?: string; sa?: string } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: extra.namespace ?? 'agents',
      labels: extra.labels ?? {},
      annotations: extra.annotations ?? {},
      ...(extra.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: extra.owner.kind, name: extra.owner.name, uid: '0b7a0c43-4c1e-4d3c-9d55-6f0f6d0c8e11', controller: true }] } : {}),
    },
    spec: { nodeName: node, serviceAccountName: extra.sa ?? 'default', containers: [{ name: 'main', image: 'agent:1' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'main', image: 'agent:1', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${extra.container ?? 'a'.repeat(64)}` }] },
  };
}

async function setup(t: { teardown: (f: () => unknown) => void }, inactivityMs = 60_000) {
  const api = await new KubeApiServer({ bookmarkMs: 0 }).start();
  t.teardown(() => api.close());
  const dir = mkdtempSync(join(tmpdir(), 'altrace-kube-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'token'), api.token);
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'agents', annotations: { 'altrace.io/team': 'research' } } });
  api.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  const kubeConfig = kubeConfigFor({ api_server: api.url, token_file: join(dir, 'token'), insecure_skip_tls_verify: true });
  const make = () => new PodCache({ kubeConfig, nodeName: 'node-a', logger: silent, inactivityMs, maxBackoffMs: 500 });
  return { api, make };
}

test('this node’s pods are indexed by uid and container id, named by namespace, owner, service account; agent and team from annotations, the namespace’s as defaults', async (t) => {
  const { api, make } = await setup(t);
  const web = api.create('pods', pod('research-7d9f8b6c5d-x2x4z', 'node-a', { labels: { 'pod-template-hash': '7d9f8b6c5d' }, owner: { kind: 'ReplicaSet', name: 'research-7d9f8b6c5d' }, annotations: { 'altrace.io/agent': 'researcher', 'altrace.io/cost-center': 'cc-42' }, container: 'b'.repeat(64), sa: 'research-sa' }));
  api.create('pods', pod('nightly-29380000-abcde', 'node-a', { namespace: 'other', owner: { kind: 'Job', name: 'nightly-29380000' }, container: 'c'.repeat(64) }));
  api.create('pods', pod('elsewhere', 'node-b', { container: 'd'.repeat(64) }));
  const cache = make();
  t.teardown(() => cache.stop());
  t.true(await cache.start());
  t.is(cache.pods().length, 2, 'only this node’s pods');
  t.deepEqual(cache.byContainer('b'.repeat(64)), {
    namespace: 'agents', pod: 'research-7d9f8b6c5d-x2x4z', uid: web.metadata.uid!, node: 'node-a', serviceAccount: 'research-sa',
    owner: { kind: 'Deployment', name: 'research' }, agent: 'researcher', team: 'research', costCenter: 'cc-42', containerIds: ['b'.repeat(64)],
    enforce: false, addresses: [],
  });
  t.like(cache.byContainer('c'.repeat(64)), { namespace: 'other', owner: { kind: 'CronJob', name: 'nightly' }, agent: null, team: null }, 'no annotation anywhere: a shadow agent');
  t.is(cache.byContainer('d'.repeat(64)), undefined);
  t.is(cache.byUid(web.metadata.uid!)?.pod, 'research-7d9f8b6c5d-x2x4z');

  // Changes arrive through the watch: a pod annotated, a namespace's default changed, a pod gone.
  api.update('pods', 'other', 'nightly-29380000-abcde', (p) => (p.metadata.annotations = { 'altrace.io/agent': 'nightly-report' }));
  await eventually(() => cache.byContainer('c'.repeat(64))?.agent === 'nightly-report', 5000, 'the annotation arrives');
  api.update('namespaces', null, 'agents', (n) => (n.metadata.annotations = { 'altrace.io/team': 'research-2' }));
  await eventually(() => cache.byContainer('b'.repeat(64))?.team === 'research-2', 5000, 'a namespace default reaches its pods');
  api.delete('pods', 'agents', 'research-7d9f8b6c5d-x2x4z');
  await eventually(() => cache.byContainer('b'.repeat(64)) === undefined, 5000, 'a deleted pod leaves the index');
});

test('a pod’s service account declares what the pod does not: pod first, then service account, then namespace; a change to the account reaches its pods', async (t) => {
  const { api, make } = await setup(t);
  api.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'billing-sa', namespace: 'agents', annotations: { 'altrace.io/agent': 'billing-bot', 'altrace.io/cost-center': 'cc-billing' } } });
  api.create('pods', pod('billing-1', 'node-a', { sa: 'billing-sa', container: 'f'.repeat(64) }));
  api.create('pods', pod('billing-2', 'node-a', { sa: 'billing-sa', container: '1'.repeat(64), annotations: { 'altrace.io/agent': 'special-bot' } }));
  const cache = make();
  t.teardown(() => cache.stop());
  t.true(await cache.start());
  t.like(cache.byContainer('f'.repeat(64)), { agent: 'billing-bot', costCenter: 'cc-billing', team: 'research' }, 'agent from the account, team from the namespace');
  t.like(cache.byContainer('1'.repeat(64)), { agent: 'special-bot', costCenter: 'cc-billing' }, "the pod's own annotation wins");
  api.update('serviceaccounts', 'agents', 'billing-sa', (sa) => (sa.metadata.annotations = { 'altrace.io/agent': 'billing-bot-v2' }));
  await eventually(() => cache.byContainer('f'.repeat(64))?.agent === 'billing-bot-v2', 5000, 'the account change reaches its pod');
  t.is(cache.byContainer('f'.repeat(64))?.costCenter, null);
});

test('by pod address (explicit mode): host-network pods and finished pods name nobody; an address handed to a new pod is the new pod’s, whatever becomes of the old', async (t) => {
  const { api, make } = await setup(t);
  const withIp = (o: KubeObject, ip: string, phase = 'Running') => ({ ...o, status: { ...(o.status as object), phase, podIP: ip, podIPs: [{ ip }] } }) as KubeObject;
  api.create('pods', withIp(pod('first', 'node-a', { container: '2'.repeat(64), annotations: { 'altrace.io/agent': 'first-bot' } }), '10.244.1.7'));
  const host = pod('host-net', 'node-a', { container: '3'.repeat(64) });
  (host.spec as { hostNetwork?: boolean }).hostNetwork = true;
  api.create('pods', withIp(host, '10.0.0.4'));
  const cache = make();
  t.teardown(() => cache.stop());
  t.true(await cache.start());
  t.like(cache.byAddress('10.244.1.7'), { pod: 'first', agent: 'first-bot' });
  t.like(cache.byAddress('::ffff:10.244.1.7'), { pod: 'first' }, 'an IPv4-mapped IPv6 peer is its IPv4 address');
  t.is(cache.byAddress('10.0.0.4'), undefined, 'a host-network pod has the node’s address, which is nobody’s');
  // The first pod finishes; a new pod is given its address; then the old object goes.
  api.update('pods', 'agents', 'first', (p) => ((p.status as { phase: string }).phase = 'Succeeded'));
  await eventually(() => cache.byAddress('10.244.1.7') === undefined, 5000, 'a finished pod’s address names nobody');
  api.create('pods', withIp(pod('second', 'node-a', { container: '4'.repeat(64) }), '10.244.1.7'));
  await eventually(() => cache.byAddress('10.244.1.7')?.pod === 'second', 5000, 'the new holder');
  api.delete('pods', 'agents', 'first');
  await eventually(() => cache.byContainer('2'.repeat(64)) === undefined, 5000, 'the old pod is gone');
  t.is(cache.byAddress('10.244.1.7')?.pod, 'second', 'the old pod’s deletion does not take its address from the new one');

  // A pod on its way out (deletionTimestamp set, still Running) gives its address up at once, and
  // an update to it cannot take the address back from the pod that has it now.
  api.create('pods', { ...withIp(pod('third', 'node-a', { container: '5'.repeat(64) }), '10.244.1.9'), metadata: { ...pod('third', 'node-a').metadata, finalizers: ['example.com/hold'] } } as KubeObject);
  await eventually(() => cache.byAddress('10.244.1.9')?.pod === 'third', 5000, 'the third pod holds its address');
  api.delete('pods', 'agents', 'third');
  await eventually(() => cache.byAddress('10.244.1.9') === undefined, 5000, 'a terminating pod owns no address');
  api.create('pods', withIp(pod('fourth', 'node-a', { container: '6'.repeat(64) }), '10.244.1.9'));
  await eventually(() => cache.byAddress('10.244.1.9')?.pod === 'fourth', 5000, 'its successor does');
  api.update('pods', 'agents', 'third', (p) => (p.metadata.annotations = { touched: 'yes' }));
  await eventually(() => cache.byUid(api.get('pods', 'agents', 'third')!.metadata.uid!)?.pod === 'third' && cache.byContainer('5'.repeat(64)) !== undefined, 5000, 'the update arrived');
  t.is(cache.byAddress('10.244.1.9')?.pod, 'fourth', 'the leaving pod’s update does not take it back');
});

test('a silent watch is ended and resumed from its version; history gone by then is a 410, and a relist', async (t) => {
  const { api, make } = await setup(t, 800);
  const cache = make();
  t.teardown(() => cache.stop());
  await cache.start();
  const watchesBefore = api.counts.watches;
  // The open watches miss this change and stay quiet: only their inactivity deadline brings it.
  api.silence(true);
  api.create('pods', pod('quiet', 'node-a', { container: 'e'.repeat(64) }));
  api.silence(false);
  await eventually(() => cache.byContainer('e'.repeat(64)) !== undefined, 5000, 'the missed pod arrives once the silent watch is replaced');
  t.true(api.counts.watches > watchesBefore, 'a new watch was opened');
  t.is(api.counts.gone, 0);

  // Now the history is compacted while the watch is silent: resuming from its version is a 410, and the client lists again.
  const listsBefore = api.counts.lists;
  api.silence(true);
  api.create('pods', pod('after-compaction', 'node-a', { container: 'f'.repeat(64) }));
  api.compact();
  api.silence(false);
  await eventually(() => cache.byContainer('f'.repeat(64)) !== undefined, 5000, 'the pod made before the compaction arrives through a relist');
  t.true(api.counts.gone >= 1, '410 Gone was sent');
  t.true(api.counts.lists > listsBefore, 'and the client listed again');
});

test('the API server restarting: the watch is tried again with a bounded backoff and resumes', async (t) => {
  const { api, make } = await setup(t);
  const cache = make();
  t.teardown(() => cache.stop());
  await cache.start();
  const down = api.restart(1500);
  await sleep(100);
  await down;
  api.create('pods', pod('after-restart', 'node-a', { container: '9'.repeat(64) }));
  await eventually(() => cache.byContainer('9'.repeat(64)) !== undefined, 5000, 'a pod made after the restart arrives');
  const s = cache.status();
  t.true(s.watches.pods.restarts + s.watches.namespaces.restarts >= 1, `the watches were started again (${JSON.stringify(s.watches)})`);
});
