// A policy's classifiers, loaded on a scan worker before the policy takes effect: an agent does not
// start, and a reload does not replace the last good policy, with a model that cannot run.
import { classifierKey, type Policy, type ScanPool } from '../../../proxy/src/index.js';
import { PolicyError } from '../errors.js';

/** Loads (and warms) each classifier `next` declares that `current` did not load already; throws naming the field. */
export async function classifiersReady(pool: ScanPool, next: Policy, current: Policy | null = null): Promise<void> {
  const loaded = new Set((current?.content.classifiers ?? []).map(classifierKey));
  for (const [i, spec] of next.content.classifiers.entries()) {
    if (loaded.has(classifierKey(spec))) continue;
    try {
      await pool.classify({ kind: 'classify', classifier: spec, texts: [''] });
    } catch (err) {
      throw new PolicyError(`invalid policy ${next.source}: content.classifiers.${i} (${spec.id}): ${(err as Error).message}`, `content.classifiers.${i}.model`);
    }
  }
}
