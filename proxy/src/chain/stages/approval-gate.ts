import type { ApprovalAnswer, ApprovalAsk, ApprovalDesk } from '../../contracts/approvals.js';
import type { ApprovalRule, Contract } from '../../contracts/compile.js';
import { runOf, type RequestContext } from '../context.js';
import type { RequestStage } from '../stage.js';
import { block, warn, type Verdict } from '../verdict.js';

const ID = 'approval-gate';

/** The verdict an operator's answer (or its absence) becomes, for the stage that asked. */
export function answerVerdict(stage: string, a: ApprovalAnswer, contract: Contract, rule: ApprovalRule): Verdict {
  const where = `${contract.ref} rule ${rule.id}, approval ${a.id}`;
  if (a.outcome === 'approved') return warn(stage, 'ALT_APPROVAL_GRANTED', `${where}, approved by ${a.by}`);
  if (a.outcome === 'denied') {
    return block(stage, 'ALT_APPROVAL_DENIED', `${where}, denied by ${a.by}`, `An operator denied this at approval gate ${rule.id} of ${contract.ref}${a.reason ? `: ${a.reason}` : ''}. Do not retry it as it is.`);
  }
  return block(stage, 'ALT_APPROVAL_TIMEOUT', `${where}, no decision within ${rule.timeoutMs / 1000} s`, `Approval gate ${rule.id} of ${contract.ref} got no decision within ${rule.timeoutMs / 1000} s (approval ${a.id}); ask an operator to approve, then retry.`);
}

/** The question a gate puts to an operator for this request. */
export function askFor(ctx: RequestContext, contract: Contract, rule: ApprovalRule, kind: ApprovalAsk['kind'], subject: string, args: string | null): ApprovalAsk {
  const p = ctx.principal!;
  return { requestId: ctx.id, agent: p.agent, team: p.team, keyId: p.keyId, run: runOf(ctx.headers), contract: contract.ref, rule: rule.id, kind, subject, arguments: args, timeoutMs: rule.timeoutMs };
}

/**
 * Human approval gates on requests (contract `approvals` with `model:`): the request is held
 * before the provider is called until an operator approves or denies it, or the gate's
 * timeout denies it. Last in the chain, so nothing else can refuse a request once approved.
 */
export function approvalGate(desk: ApprovalDesk): RequestStage {
  return {
    id: ID,
    band: 'approval',
    side: 'request',
    unbounded: true,
    summary: 'human approval gates of the contracts: matching requests wait for an operator (control API, altrace approvals); a timeout denies',
    evaluate(ctx) {
      const contracts = ctx.contracts;
      const model = ctx.call?.model;
      if (!contracts?.length || !model || !ctx.principal) return null;
      for (const c of contracts) {
        for (const rule of c.approvals) {
          if (!rule.model?.test(model)) continue;
          return desk.ask(askFor(ctx, c, rule, 'model', model, null)).then((a) => answerVerdict(ID, a, c, rule));
        }
      }
      return null;
    },
  };
}
