// The Kubernetes node rig: the stand-in API server, a node agent in bpf mode watching it, and
// "pods" — processes in cgroups laid out as the kubelet lays them out
// (kubepods.slice/…-pod<uid>.slice/cri-containerd-<id>.scope) in a network namespace of the
// rig's, each with its object in the API server. Cleaned up by the Cleanup stack.
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeApiServer, type KubeObject } from '../fixtures/kube-apiserver.js';
import { startRigAgent, startSimulator, type RigAgent } from './agent-rig.js';
import { NetRig, type Link } from './netns.js';
import { Child, removeCgroupDir, TempCgroup, type Cleanup } from './rig.js';

export const NODE = 'rig-node';

export interface KubePod {
  uid: string;
  container: string;
  cgroup: string;
  child: Child;
}

export interface KubeRig {
  api: KubeApiServer;
  net: NetRig;
  pod: Link;
  provider: Link;
  simUrl: string;
  rig: RigAgent;
  /** A pod of `namespace` on `link`, its object in the API server, its process in its container cgroup. */
  startPod(o: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string>; link?: Link }): Promise<KubePod>;
}

/** The kubelet's systemd-driver layout for a besteffort pod's container, under `root`. */
export function kubeletCgroup(root: string, uid: string, container: string): string {
  return join(root, 'kubepods.slice', 'kubepods-besteffort.slice', `kubepods-besteffort-pod${uid.replaceAll('-', '_')}.slice`, `cri-containerd-${container}.scope`);
}

function podObject(o: { name: string; namespace: string; uid: string; container: string; annotations: Record<string, string>; labels: Record<string, string>; address: string }): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      uid: o.uid,
      labels: { app: 'research', 'pod-template-hash': '5c7d9b', ...o.labels },
      annotations: o.annotations,
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'research-5c7d9b', uid: randomUUID(), controller: true }],
    },
    spec: { nodeName: NODE, serviceAccountName: 'research-sa', containers: [{ name: 'agent', image: 'agent:1' }] },
    status: { phase: 'Running', podIP: o.address, podIPs: [{ ip: o.address }], containerStatuses: [{ name: 'agent', image: 'agent:1', imageID: '', ready: true, restartCount: 0, containerID: `containerd://${o.container}` }] },
  };
}

export async function startKubeRig(
  cleanup: Cleanup,
  o: { namespaces: KubeObject[]; mode?: 'bpf' | 'nftables'; podsBeforeAgent?: (pod: Link, extra: Link[]) => Parameters<KubeRig['startPod']>[0][]; env?: Record<string, string | undefined> | ((pod: Link, extra: Link[]) => Record<string, string | undefined>); extraLinks?: (net: NetRig) => Link[]; config?: (pod: Link, extra: Link[]) => string[]; api?: KubeApiServer },
): Promise<KubeRig & { extra: Link[]; early: KubePod[] }> {
  const api = o.api ?? (await new KubeApiServer().start());
  if (!o.api) cleanup.add(() => api.close());
  for (const ns of o.namespaces) api.create('namespaces', ns);
  const net = NetRig.create(cleanup);
  const pod = net.namespace('kpd', 1);
  const provider = net.namespace('kpv', 2);
  const extra = o.extraLinks?.(net) ?? [];
  const simUrl = (await startSimulator(provider, cleanup)).url;
  const node = TempCgroup.create(cleanup);
  const qos = join(node.path, 'kubepods.slice', 'kubepods-besteffort.slice');
  mkdirSync(qos, { recursive: true });
  cleanup.add(async () => {
    await removeCgroupDir(qos, node.root);
    await removeCgroupDir(join(qos, '..'), node.root);
  });
  const secrets = mkdtempSync(join(tmpdir(), 'altrace-kube-token-'));
  cleanup.add(() => rmSync(secrets, { recursive: true, force: true }));
  const tokenFile = join(secrets, 'token');
  writeFileSync(tokenFile, api.token);
  const startPod: KubeRig['startPod'] = async (p) => {
    const uid = randomUUID();
    const container = randomUUID().replaceAll('-', '').repeat(2);
    const cgroup = kubeletCgroup(node.path, uid, container);
    mkdirSync(cgroup, { recursive: true });
    // Its container's cgroup, then its pod's; the QoS slices are the rig's (removed after every pod's).
    cleanup.add(async () => {
      await removeCgroupDir(cgroup, node.root);
      await removeCgroupDir(join(cgroup, '..'), node.root);
    });
    const link = p.link ?? pod;
    api.create('pods', podObject({ name: p.name, namespace: p.namespace ?? 'agents', uid, container, annotations: p.annotations ?? {}, labels: p.labels ?? {}, address: link.address }));
    const child = await Child.spawn(cleanup, { cgroupProcs: join(cgroup, 'cgroup.procs'), netns: link.netns });
    return { uid, container, cgroup, child };
  };
  // Pods that were running before the agent started: found by its first listing.
  const early: KubePod[] = [];
  for (const p of o.podsBeforeAgent?.(pod, extra) ?? []) early.push(await startPod(p));
  const rig = await startRigAgent(cleanup, {
    ...(o.mode ? { mode: o.mode } : {}),
    cgroup: node.path,
    pod,
    simUrl,
    ...(o.config ? { config: o.config(pod, extra) } : {}),
    env: {
      ALTRACE_KUBERNETES_ENABLED: 'true',
      ALTRACE_KUBERNETES_API_SERVER: api.url,
      ALTRACE_KUBERNETES_TOKEN_FILE: tokenFile,
      ALTRACE_KUBERNETES_NODE_NAME: NODE,
      ALTRACE_KUBERNETES_INSECURE_SKIP_TLS_VERIFY: 'true',
      ...(typeof o.env === 'function' ? o.env(pod, extra) : o.env),
    },
  });
  return { api, net, pod, provider, simUrl, rig, startPod, extra, early };
}
