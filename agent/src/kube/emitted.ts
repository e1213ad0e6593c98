// Objects the control plane emits into the cluster and keeps as it wants them (Cilium policies,
// trust bundles): created when missing, put back when edited, removed when no longer wanted.
import type { KubernetesObject } from '@kubernetes/client-node';

export type Emitted = KubernetesObject & { spec?: unknown; data?: Record<string, string> };

export interface EmittedApi {
  create(namespace: string, body: Emitted): Promise<unknown>;
  replace(namespace: string, name: string, body: Emitted): Promise<unknown>;
  delete(namespace: string, name: string): Promise<unknown>;
}

export interface SyncCounts {
  created: number;
  replaced: number;
  deleted: number;
}

export interface SyncReport {
  created: string[];
  replaced: string[];
  deleted: string[];
}

/**
 * Makes the cluster hold `desired` of what `actual` lists: keyed by namespace, or by anything when
 * each object names its namespace (several in one namespace). A write that lost a race (409:
 * changed meanwhile, 404: gone) is left to the event it caused: `retry` is called.
 */
export async function syncEmitted(api: EmittedApi, actualList: readonly Emitted[], desired: ReadonlyMap<string, Emitted & { metadata: { name: string; namespace?: string } }>, retry: () => void): Promise<SyncReport> {
  const report: SyncReport = { created: [], replaced: [], deleted: [] };
  const actual = new Map(actualList.map((o) => [`${o.metadata!.namespace}/${o.metadata!.name}`, o]));
  // One object the API refuses (its namespace missing or terminating) must not hold up the others: each is tried, then the failures are thrown together.
  const failed: Error[] = [];
  const attempt = async (at: string, write: () => Promise<boolean>, done: string[]) => {
    try {
      if (await write()) done.push(at);
    } catch (err) {
      failed.push(new Error(`${at}: ${(err as Error).message}`));
    }
  };
  for (const [key, want] of desired) {
    const namespace = want.metadata.namespace ?? key;
    const at = `${namespace}/${want.metadata.name}`;
    const have = actual.get(at);
    actual.delete(at);
    if (!have) {
      await attempt(at, () => tolerate(409, retry, () => api.create(namespace, want)), report.created);
    } else if (drifted(want, have)) {
      const body = { ...want, metadata: { ...want.metadata, resourceVersion: have.metadata!.resourceVersion } };
      await attempt(at, () => tolerate(409, retry, () => api.replace(namespace, want.metadata.name, body)), report.replaced);
    }
  }
  for (const [key, o] of actual) await attempt(key, () => tolerate(404, retry, () => api.delete(o.metadata!.namespace!, o.metadata!.name!)), report.deleted);
  if (failed.length) throw new AggregateError(failed, `${failed.length} of the objects could not be written: ${failed.map((e) => e.message).join('; ')}`);
  return report;
}

async function tolerate(code: number, retry: () => void, write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if ((err as { code?: number }).code !== code) throw err;
    retry();
    return false;
  }
}

/** What the emitter owns of an object: its spec or data, its labels and annotations, its owner. */
export function drifted(want: Emitted, have: Emitted): boolean {
  const subset = (a: Record<string, string> = {}, b: Record<string, string> = {}) => Object.entries(a).every(([k, v]) => b[k] === v);
  const owners = (o: Emitted) => canonical((o.metadata?.ownerReferences ?? []).map((r) => r.uid));
  return (
    canonical(want.spec) !== canonical(have.spec) ||
    canonical(want.data) !== canonical(have.data) ||
    !subset(want.metadata?.labels, have.metadata?.labels) ||
    !subset(want.metadata?.annotations, have.metadata?.annotations) ||
    owners(want) !== owners(have)
  );
}

/** JSON with object keys sorted: equal values, equal text. */
export function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  return JSON.stringify(v ?? null);
}
