import { evidenceFromHistory, type EvidenceLedger } from '../../contracts/evidence.js';
import { checkEvidence, checkRequest, type ContractRefusal, type HostOf, type RegionOf } from '../../contracts/evaluate.js';
import type { RateBuckets } from '../../contracts/rate.js';
import type { PolicyHolder } from '../../policy/policy.js';
import { runOf } from '../context.js';
import type { RequestStage } from '../stage.js';
import { block, type Verdict } from '../../core/verdict.js';

export const CONTRACT_STAGE_ID = 'contract';

export function refusalVerdict(stage: string, r: ContractRefusal): Verdict {
  return block(stage, r.reason, r.detail, r.hint);
}

/**
 * Behavioral contracts, request side: every contract of the agent and of its team must allow
 * the hours, model, destination, declared tools and the tool calls in the history, and its rate.
 * Tools that returned in the history become evidence for the run; an MCP tool call must have
 * its evidence before it runs.
 */
export function contractRequest(policy: PolicyHolder, ledger: EvidenceLedger, buckets: RateBuckets, regionOf: RegionOf, hostOf: HostOf = () => null, now: () => number = Date.now): RequestStage {
  return {
    id: CONTRACT_STAGE_ID,
    band: 'contract',
    side: 'request',
    summary: 'behavioral contracts of the agent and its team: hours, models, destinations, tools and action levels, rate; records evidence',
    evaluate(ctx) {
      const set = policy.current.contracts;
      const p = ctx.principal;
      const call = ctx.call;
      const delegated = ctx.delegation?.contract;
      if ((set.all.length === 0 && !set.require && !delegated) || !p || !call) return null;
      const contracts = delegated ? [...set.forPrincipal(p.agent, p.team), delegated] : set.forPrincipal(p.agent, p.team);
      if (contracts.length === 0) {
        return set.require ? block(CONTRACT_STAGE_ID, 'ALT_CONTRACT_MISSING', `agent ${p.agent}, team ${p.team}`) : null;
      }
      ctx.contracts = contracts;
      const t = now();
      for (const c of contracts) {
        const r = checkRequest(c, call, t, regionOf, hostOf);
        if (r) return refusalVerdict(CONTRACT_STAGE_ID, r);
      }
      if (set.evidencePaths.size > 0) {
        const seen = evidenceFromHistory(call, set.evidencePaths);
        const run = runOf(ctx.headers);
        if (run === null) ctx.evidence = seen;
        else {
          ledger.record(p.agent, run, seen, t);
          ctx.evidence = ledger.get(p.agent, run, t);
        }
        // An MCP tools/call is the action itself, about to run: its prerequisites must have returned.
        if (call.mcp) {
          for (const tc of call.toolCalls) {
            const r = checkEvidence(contracts, tc.name, tc.arguments, ctx.evidence);
            if (r) return refusalVerdict(CONTRACT_STAGE_ID, r);
          }
        }
      }
      // Last, so that a request refused above does not spend the agent's rate.
      for (const c of contracts) {
        if (!c.rate) continue;
        const key = `${c.name}\u0000${p.agent}`;
        if (!buckets.take(key, c.rate.requests, c.rate.perMs, t)) {
          const waitMs = buckets.waitMs(key, c.rate.requests, c.rate.perMs);
          const hint = `Contract ${c.ref} allows ${c.rate.requests} requests per ${c.rate.perMs / 1000} s; retry in ${Math.max(1, Math.ceil(waitMs / 1000))} s.`;
          const v = block(CONTRACT_STAGE_ID, 'ALT_CONTRACT_RATE_LIMITED', `${c.ref}: ${c.rate.requests} requests per ${c.rate.perMs / 1000} s`, hint);
          v.retryAfterMs = waitMs;
          return v;
        }
      }
      return null;
    },
  };
}
