import type { KeyObject } from 'node:crypto';
import { delegationContract } from '../../delegation/contract.js';
import { DelegationError } from '../../delegation/format.js';
import { verifyChain, type VerifiedChain } from '../../delegation/verify.js';
import type { RequestStage } from '../stage.js';
import { block } from '../verdict.js';

export const DELEGATION_STAGE_ID = 'delegation';

const CACHE_LIMIT = 10_000;

/**
 * Delegation contracts: a worker presents the chain it was delegated in `x-altrace-parent`.
 * The chain must verify against a trusted root key and be for the presenting agent; then its
 * grant is one more contract of the request (models, tools, rate; budget in the budget stage;
 * data ceiling and regions in theirs). Signatures are checked once per chain text; validity
 * times on every request.
 */
/** The agent is told what was wrong with its chain: it is the delegating agent's to fix. */
function refused(why: string) {
  return block(DELEGATION_STAGE_ID, 'ALT_DELEGATION_INVALID', why, `The delegation chain in x-altrace-parent was refused: ${why}. Ask the delegating agent for a valid chain.`);
}

export function delegationStage(roots: () => ReadonlyMap<string, KeyObject>, now: () => number = Date.now): RequestStage {
  const cache = new Map<string, VerifiedChain | DelegationError>();
  let cachedRoots = roots();
  return {
    id: DELEGATION_STAGE_ID,
    band: 'contract',
    side: 'request',
    summary: 'delegation chains in x-altrace-parent: Ed25519-signed, attenuating only, for this agent; the grant becomes a contract of the request',
    evaluate(ctx) {
      const header = ctx.headers['x-altrace-parent'];
      if (header === undefined) return null;
      const p = ctx.principal;
      if (!p) return null;
      if (typeof header !== 'string') return refused('x-altrace-parent was sent more than once');
      const current = roots();
      if (current !== cachedRoots) {
        cache.clear();
        cachedRoots = current;
      }
      const t = now() / 1000;
      let v = cache.get(header);
      if (!v) {
        try {
          v = verifyChain(header, current, t);
        } catch (err) {
          if (!(err instanceof DelegationError)) throw err;
          v = err;
        }
        if (cache.size >= CACHE_LIMIT) cache.clear();
        // A chain refused for its time alone may become valid: only other refusals are kept.
        if (!(v instanceof DelegationError && /not valid before|expired/.test(v.message))) cache.set(header, v);
      }
      if (v instanceof DelegationError) return refused(v.message);
      if (t < v.nbf || t >= v.exp) return refused(t >= v.exp ? `the chain expired at ${new Date(v.exp * 1000).toISOString()}` : 'the chain is not valid yet');
      if (v.aud !== p.agent) return refused(`the chain is delegated to agent ${v.aud}, not ${p.agent}`);
      ctx.delegation = { chain: v, contract: delegationContract(v) };
      return null;
    },
  };
}
