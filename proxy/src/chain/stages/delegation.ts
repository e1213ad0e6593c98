import type { KeyObject } from 'node:crypto';
import { delegationContract } from '../../delegation/contract.js';
import { DelegationError } from '../../delegation/format.js';
import { verifyChain, type VerifiedChain } from '../../delegation/verify.js';
import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';
import type { Contract } from '../../contracts/compile.js';

export const DELEGATION_STAGE_ID = 'delegation';

const CACHE_LIMIT = 10_000;

/** The agent is told what was wrong with its chain: it is the delegating agent's to fix. */
function refused(why: string) {
  return block(DELEGATION_STAGE_ID, 'ALT_DELEGATION_INVALID', why, `The delegation chain in x-altrace-parent was refused: ${why}. Ask the delegating agent for a valid chain.`);
}

type Verified = { chain: VerifiedChain; contract: Contract };

/**
 * Delegation contracts: a worker presents the chain it was delegated in `x-altrace-parent`.
 * The chain must verify against a trusted root key and be for the presenting agent; then its
 * grant is one more contract of the request (models, tools, rate; budget in the budget stage;
 * data ceiling and regions in theirs). Signatures are checked, and the grant compiled, once per
 * chain text; validity times on every request.
 */
export function delegationStage(roots: () => ReadonlyMap<string, KeyObject>, now: () => number = Date.now): RequestStage {
  const cache = new Map<string, Verified | DelegationError>();
  // Asked for only when a chain is presented (explain reads the root key then, not at start).
  let cachedRoots: ReadonlyMap<string, KeyObject> | null = null;
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
      let v = cache.get(header);
      if (!v) {
        try {
          const chain = verifyChain(header, current, null);
          v = { chain, contract: delegationContract(chain) };
        } catch (err) {
          if (!(err instanceof DelegationError)) throw err;
          v = err;
        }
        if (cache.size >= CACHE_LIMIT) cache.clear();
        cache.set(header, v);
      }
      if (v instanceof DelegationError) return refused(v.message);
      const t = now() / 1000;
      if (t >= v.chain.exp) return refused(`the chain expired at ${new Date(v.chain.exp * 1000).toISOString()}`);
      if (t < v.chain.nbf) return refused(`the chain is not valid before ${new Date(v.chain.nbf * 1000).toISOString()}`);
      if (v.chain.aud !== p.agent) return refused(`the chain is delegated to agent ${v.chain.aud}, not ${p.agent}`);
      ctx.delegation = v;
      return null;
    },
  };
}
