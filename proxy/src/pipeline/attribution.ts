import type { RequestContext } from '../chain/context.js';
import { podKeyId, type WorkloadRef } from '../identity/pod.js';

/**
 * A request from a known workload (node enforcement, or a pod by its address) carries its pod;
 * without a virtual key it is governed as that workload: as the agent its pod declares, else
 * attributed to the workload itself.
 */
export function attribute(ctx: RequestContext, w: WorkloadRef): void {
  ctx.pod = w.pod;
  if (ctx.presented.virtual !== null || ctx.presented.virtualHash !== undefined) return;
  const declared = w.pod?.agent ? w.pod : null;
  ctx.principal = declared
    ? { keyId: podKeyId(declared), agent: declared.agent!, team: declared.team ?? declared.namespace }
    : { keyId: `workload:${w.id}`, agent: w.agent ?? w.id, team: w.team ?? 'unregistered' };
}
