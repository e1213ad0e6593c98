/**
 * The pod a transparently redirected request came from, as the node agent knows it from the
 * cluster: what its decision records name, and — when the pod (or its namespace) declares an
 * agent with annotations — who the request is governed as, with no virtual key in the pod.
 */
export interface PodRef {
  namespace: string;
  name: string;
  /** Kind/name of the owning workload (Deployment/research), or null. */
  owner: string | null;
  serviceAccount: string | null;
  node: string | null;
  /** Declared by annotation: altrace.io/agent, altrace.io/team, altrace.io/cost-center. */
  agent: string | null;
  team: string | null;
  costCenter: string | null;
}

/** The workload behind a redirected connection (node enforcement). */
export interface WorkloadRef {
  /** Its shadow-agent id. */
  id: string;
  /** The agent it is bound to (a pod annotation, or the first virtual key seen from it), or null. */
  agent: string | null;
  team: string | null;
  pod: PodRef | null;
}

/** The principal key id of a request governed by its pod's declared agent (no virtual key). */
export function podKeyId(pod: PodRef): string {
  return `pod:${pod.namespace}/${pod.name}`;
}

/**
 * What a pod with no key sends where its SDK insists on one (OPENAI_API_KEY=alt-pod): no
 * credential at all. From a pod that declares its agent it is governed as that agent; from
 * anywhere else it is a missing key.
 */
export const POD_IDENTITY_PLACEHOLDER = 'alt-pod';
