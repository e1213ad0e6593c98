// What the admission webhook adds to a pod of an opted-in namespace (docs/kubernetes.md,
// "Admission webhook"), so it is governed without editing its manifest: the trust bundle that
// holds the interception CA, the variables the common runtimes read it from, and, where the
// namespace asks for explicit mode, the providers' base-URL variables pointing at the node proxy.
// Pure: a pod in, an RFC 6902 patch out.

export const TRUST_CONFIGMAP = 'altrace-trust-bundle';
export const TRUST_VOLUME = 'altrace-trust';
export const TRUST_DIR = '/etc/altrace/trust';
/** The interception CA alone (Node adds it to its own roots). */
export const CA_KEY = 'ca.crt';
/** The CA with the public roots (OpenSSL-based runtimes replace their roots with this file). */
export const BUNDLE_KEY = 'bundle.crt';
export const INJECTED = 'altrace.io/injected';
export const MODE = 'altrace.io/mode';

export interface MutationOptions {
  /** The namespace asked for explicit mode (`altrace.io/mode: explicit`). */
  explicit: boolean;
  /** The node proxy's explicit port on the node address. */
  proxyPort: number;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: unknown[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}

export interface PodLike {
  metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: { containers?: Container[]; initContainers?: Container[]; volumes?: { name: string }[] };
}

export type JsonPatchOp = { op: 'add' | 'replace'; path: string; value: unknown };

const TRUST_ENV: EnvVar[] = [
  { name: 'NODE_EXTRA_CA_CERTS', value: `${TRUST_DIR}/${CA_KEY}` },
  { name: 'SSL_CERT_FILE', value: `${TRUST_DIR}/${BUNDLE_KEY}` },
  { name: 'REQUESTS_CA_BUNDLE', value: `${TRUST_DIR}/${BUNDLE_KEY}` },
];

/** The base-URL variables the providers' SDKs read; the node address first, so $(ALTRACE_NODE_IP) expands. */
function baseUrlEnv(port: number): EnvVar[] {
  const proxy = `http://$(ALTRACE_NODE_IP):${port}`;
  return [
    { name: 'ALTRACE_NODE_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    { name: 'OPENAI_BASE_URL', value: `${proxy}/v1` },
    { name: 'ANTHROPIC_BASE_URL', value: proxy },
  ];
}

/** JSON Pointer escaping of one path segment (RFC 6901). */
const pointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/**
 * The patch for a pod: nothing when it was injected already or is labelled
 * altrace.io/enforce=false. A variable the container sets itself is left as it is (the
 * operator's choice wins), and so is a volume or mount of the same name.
 */
export function podPatch(pod: PodLike, o: MutationOptions): JsonPatchOp[] {
  const annotations = pod.metadata?.annotations ?? {};
  if (annotations[INJECTED] !== undefined || pod.metadata?.labels?.['altrace.io/enforce'] === 'false') return [];
  const ops: JsonPatchOp[] = [];
  const volumes = pod.spec?.volumes;
  // Not optional: a pod of a namespace labelled a moment ago waits (ContainerCreating) until the
  // control plane has made its bundle, instead of starting without the CA (Node and Python read
  // their trust files once, at start, and would never trust it).
  const volume = { name: TRUST_VOLUME, configMap: { name: TRUST_CONFIGMAP } };
  if (!volumes) ops.push({ op: 'add', path: '/spec/volumes', value: [volume] });
  else if (!volumes.some((v) => v.name === TRUST_VOLUME)) ops.push({ op: 'add', path: '/spec/volumes/-', value: volume });
  const wanted = [...(o.explicit ? baseUrlEnv(o.proxyPort) : []), ...TRUST_ENV];
  for (const kind of ['initContainers', 'containers'] as const) {
    for (const [i, c] of (pod.spec?.[kind] ?? []).entries()) {
      const at = `/spec/${kind}/${i}`;
      const mount = { name: TRUST_VOLUME, mountPath: TRUST_DIR, readOnly: true };
      if (!c.volumeMounts) ops.push({ op: 'add', path: `${at}/volumeMounts`, value: [mount] });
      else if (!c.volumeMounts.some((m) => m.name === TRUST_VOLUME || m.mountPath === TRUST_DIR)) ops.push({ op: 'add', path: `${at}/volumeMounts/-`, value: mount });
      const own = new Set((c.env ?? []).map((e) => e.name));
      const added = wanted.filter((e) => !own.has(e.name));
      if (added.length === 0) continue;
      // Prepended: a variable of the container's own that refers to $(OPENAI_BASE_URL) still expands.
      if (!c.env) ops.push({ op: 'add', path: `${at}/env`, value: added });
      else added.forEach((e, k) => ops.push({ op: 'add', path: `${at}/env/${k}`, value: e }));
    }
  }
  const mark = o.explicit ? 'trust,base-url' : 'trust';
  if (!pod.metadata?.annotations) ops.push({ op: 'add', path: '/metadata/annotations', value: { [INJECTED]: mark } });
  else ops.push({ op: 'add', path: `/metadata/annotations/${pointer(INJECTED)}`, value: mark });
  return ops;
}
