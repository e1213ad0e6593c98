import type { V1Namespace, V1Pod, V1ServiceAccount } from '@kubernetes/client-node';
import type { PodRef } from '../../../proxy/src/index.js';

/** Who a pod is, in the cluster's own words: what decisions, audit records and `bpf status` name. */
export interface PodIdentity {
  namespace: string;
  pod: string;
  uid: string;
  node: string | null;
  serviceAccount: string | null;
  /** The workload that owns it: Deployment, StatefulSet, DaemonSet, Job, CronJob (or the direct owner). */
  owner: { kind: string; name: string } | null;
  /** Declared with annotations altrace.io/agent, altrace.io/team, altrace.io/cost-center on the
   *  pod, else on its service account, else on its namespace; null where neither declares one (the pod is a shadow agent). */
  agent: string | null;
  team: string | null;
  costCenter: string | null;
  /** Container ids (the runtime's, without its scheme) of its containers. */
  containerIds: string[];
  /** Opted in to enforcement: label altrace.io/enforce on the pod ("true"/"false"), else on its namespace. */
  enforce: boolean;
  /** Its own addresses (none for a pod on the node's network). */
  addresses: string[];
}

export const ANNOTATION_AGENT = 'altrace.io/agent';
export const ANNOTATION_TEAM = 'altrace.io/team';
export const ANNOTATION_COST_CENTER = 'altrace.io/cost-center';
export const LABEL_ENFORCE = 'altrace.io/enforce';

/**
 * The pod's owning workload, from its controller reference: a ReplicaSet is its Deployment's
 * when the pod carries the template hash the Deployment named it with, and a Job is a
 * CronJob's when its name is the CronJob's plus a schedule time (what the controllers do; the
 * ReplicaSet or Job itself is not read, so the agent needs no access to them).
 */
export function podOwner(pod: V1Pod): { kind: string; name: string } | null {
  const ref = pod.metadata?.ownerReferences?.find((r) => r.controller) ?? pod.metadata?.ownerReferences?.[0];
  if (!ref) return null;
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (ref.kind === 'ReplicaSet' && hash && ref.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: ref.name.slice(0, -hash.length - 1) };
  const cron = /^(.+)-(\d{8,10})$/.exec(ref.name);
  if (ref.kind === 'Job' && cron) return { kind: 'CronJob', name: cron[1]! };
  return { kind: ref.kind, name: ref.name };
}

/** containerd://<id>, cri-o://<id>, docker://<id> → <id>. */
function containerId(raw: string | undefined): string | null {
  const m = raw ? /^[a-z-]+:\/\/([0-9a-f]{64})$/.exec(raw) : null;
  return m ? m[1]! : null;
}

/** A pod's identity; what the pod does not declare comes from its service account's annotations, then its namespace's. */
export function podIdentity(pod: V1Pod, namespace: V1Namespace | undefined, serviceAccount?: V1ServiceAccount): PodIdentity {
  const own = pod.metadata?.annotations ?? {};
  const sa = serviceAccount?.metadata?.annotations ?? {};
  const ns = namespace?.metadata?.annotations ?? {};
  const declared = (key: string) => own[key] ?? sa[key] ?? ns[key] ?? null;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.ephemeralContainerStatuses ?? [])];
  return {
    namespace: pod.metadata?.namespace ?? 'default',
    pod: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid ?? '',
    node: pod.spec?.nodeName ?? null,
    serviceAccount: pod.spec?.serviceAccountName ?? null,
    owner: podOwner(pod),
    agent: declared(ANNOTATION_AGENT),
    team: declared(ANNOTATION_TEAM),
    costCenter: declared(ANNOTATION_COST_CENTER),
    containerIds: statuses.map((s) => containerId(s.containerID)).filter((id): id is string => id !== null),
    enforce: (pod.metadata?.labels?.[LABEL_ENFORCE] ?? namespace?.metadata?.labels?.[LABEL_ENFORCE]) === 'true',
    addresses: pod.spec?.hostNetwork ? [] : [...new Set([...(pod.status?.podIPs ?? []).map((i) => i.ip), pod.status?.podIP].filter((a): a is string => !!a))],
  };
}

/** What the proxy and the audit log carry of a pod. A declared agent's team defaults to its namespace. */
export function toPodRef(i: PodIdentity): PodRef {
  return {
    namespace: i.namespace,
    name: i.pod,
    owner: i.owner ? `${i.owner.kind}/${i.owner.name}` : null,
    serviceAccount: i.serviceAccount,
    node: i.node,
    agent: i.agent,
    team: i.team ?? (i.agent ? i.namespace : null),
    costCenter: i.costCenter,
  };
}
