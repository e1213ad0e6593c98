import { argumentsText, conditionsHold, type ApprovalAnswer, type ApprovalAsk, type ApprovalDesk } from '../../contracts/approvals.js';
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

/** The first gate of the contracts that holds this request: by its model, or by an MCP tool call it makes. */
function gateFor(ctx: RequestContext, contracts: readonly Contract[]): { contract: Contract; rule: ApprovalRule; ask: ApprovalAsk } | null {
  const call = ctx.call!;
  for (const contract of contracts) {
    for (const rule of contract.approvals) {
      if (call.model && rule.model?.test(call.model)) return { contract, rule, ask: askFor(ctx, contract, rule, 'model', call.model, null) };
      if (!call.mcp || !rule.tool) continue;
      for (const tc of call.toolCalls) {
        if (rule.tool.test(tc.name) && conditionsHold(rule, tc.arguments)) return { contract, rule, ask: askFor(ctx, contract, rule, 'tool', tc.name, argumentsText(tc.arguments)) };
      }
    }
  }
  return null;
}

/**
 * Human approval gates on requests: a request for a gated model (`model:`), or an MCP tool
 * call a gate names (`tool:`, with its conditions), is held before the upstream is called
 * until an operator approves or denies it, or the gate's timeout denies it. Last in the
 * chain, so nothing else can refuse a request once approved.
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
      if (!contracts?.length || !ctx.call || !ctx.principal) return null;
      const gate = gateFor(ctx, contracts);
      if (!gate) return null;
      return desk.ask(gate.ask).then((a) => answerVerdict(ID, a, gate.contract, gate.rule));
    },
  };
}
