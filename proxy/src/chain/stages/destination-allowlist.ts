import type { PolicyHolder } from '../../policy/policy.js';
import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

const ID = 'destination-allowlist';

/** The upstream must be allowed by the policy and by the key (by upstream name or provider kind). */
export function destinationAllowlist(policy: PolicyHolder): RequestStage {
  return {
    id: ID,
    band: 'contract',
    side: 'request',
    summary: 'provider and destination allowlist of the policy and of the key',
    evaluate(ctx) {
      const call = ctx.call;
      if (!call) return null;
      const allowed = policy.current.allowedUpstreams;
      if (allowed && !allowed.has(call.upstream)) {
        return block(ID, 'ALT_PROVIDER_NOT_ALLOWED', `upstream ${call.upstream} not in policy`, `The policy allows: ${[...allowed].join(', ')}.`);
      }
      const key = ctx.key;
      if (key && key.providers.length > 0 && !key.providers.includes(call.upstream) && !key.providers.includes(call.provider)) {
        return block(ID, 'ALT_PROVIDER_NOT_ALLOWED', `upstream ${call.upstream} not allowed for key ${key.id}`, `This key allows: ${key.providers.join(', ')}.`);
      }
      return null;
    },
  };
}
