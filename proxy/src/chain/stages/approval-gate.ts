import { argumentsText, conditionsHold, type ApprovalAnswer, type ApprovalAsk, type ApprovalDesk } from '../../contracts/approvals.js';
import type { ApprovalRule, Contract } from '../../contracts/compile.js';
import { runOf, type RequestContext } from '../context.js';
import type { RequestStage } from '../stage.js';
import { block, warn, type Verdict } from '../../core/verdict.js';

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

interface Gate {
  contract: Contract;
  rule: ApprovalRule;
  ask: ApprovalAsk;
}

/**
 * The questions this request must have answered: the first gate that holds its model, and for
 * each MCP tool call it makes (a batch may hold several) the first gate that holds that call.
 */
function gatesFor(ctx: RequestContext, contracts: readonly Contract[]): Gate[] {
  const call = ctx.call!;
  const gates: Gate[] = [];
  const first = (holds: (rule: ApprovalRule) => boolean): { contract: Contract; rule: ApprovalRule } | null => {
    for (const contract of contracts) for (const rule of contract.approvals) if (holds(rule)) return { contract, rule };
    return null;
  };
  const model = call.model;
  const byModel = model ? first((r) => r.model?.test(model) === true) : null;
  if (byModel) gates.push({ ...byModel, ask: askFor(ctx, byModel.contract, byModel.rule, 'model', model!, null) });
  if (call.mcp) {
    for (const tc of call.toolCalls) {
      const byTool = first((r) => r.tool?.test(tc.name) === true && conditionsHold(r, tc.arguments));
      if (byTool) gates.push({ ...byTool, ask: askFor(ctx, byTool.contract, byTool.rule, 'tool', tc.name, argumentsText(tc.arguments)) });
    }
  }
  return gates;
}

/** Asks each question in turn; the first answer that refuses decides, approvals become notes. */
async function askAll(desk: ApprovalDesk, ctx: RequestContext, gates: readonly Gate[]): Promise<Verdict | null> {
  for (const [i, g] of gates.entries()) {
    const v = answerVerdict(ID, await desk.ask(g.ask), g.contract, g.rule);
    if (v.outcome === 'block') return v;
    if (i === gates.length - 1) return v;
    ctx.notes.push(v);
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
      const gates = gatesFor(ctx, contracts);
      return gates.length === 0 ? null : askAll(desk, ctx, gates);
    },
  };
}
