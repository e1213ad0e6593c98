import { argumentsText, conditionsHold, type ApprovalDesk } from '../../contracts/approvals.js';
import { checkEvidence, checkTool, evidenceRulesFor, schemaOf } from '../../contracts/evaluate.js';
import { callArguments, ToolCallTracker, type ToolCallInProgress } from '../../contracts/tool-calls.js';
import type { ApprovalRule, Contract } from '../../contracts/compile.js';
import { block } from '../../core/verdict.js';
import type { RequestContext } from '../context.js';
import type { Fragment } from '../../core/fragment.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';
import { answerVerdict, askFor } from './approval-gate.js';
import { refusalVerdict } from './contract-request.js';

const ID = 'contract-tool-calls';

type Judged = FragmentFinding | null | Promise<FragmentFinding | null>;

/** Calls that cannot be judged by name alone: held until their arguments are complete. */
function needsArguments(contracts: readonly Contract[], name: string): boolean {
  return evidenceRulesFor(contracts, name).length > 0 || contracts.some((c) => c.approvals.some((r) => r.tool?.test(name)));
}

/** The first approval gate of the contracts that applies to a complete call. */
function gateFor(contracts: readonly Contract[], c: ToolCallInProgress): { contract: Contract; rule: ApprovalRule } | null {
  const args = callArguments(c);
  for (const contract of contracts) for (const rule of contract.approvals) if (rule.tool?.test(c.name) && conditionsHold(rule, args)) return { contract, rule };
  return null;
}

/** The call waits for an operator when an approval gate of its contracts applies to it. */
function approval(desk: ApprovalDesk, ctx: RequestContext, contracts: readonly Contract[], c: ToolCallInProgress): Promise<FragmentFinding | null> | null {
  const gate = ctx.principal ? gateFor(contracts, c) : null;
  if (!gate) return null;
  return desk.ask(askFor(ctx, gate.contract, gate.rule, 'tool', c.name, argumentsText(callArguments(c)))).then((a) => {
    const v = answerVerdict(ID, a, gate.contract, gate.rule);
    if (v.outcome !== 'block') {
      ctx.notes.push(v);
      return null;
    }
    return { index: 0, seq: c.startSeq, verdict: v };
  });
}

/**
 * Behavioral contracts, response side: every tool call the model makes is checked before the
 * agent sees it. A tool the contract does not allow is cut at the fragment that names it. A
 * call with evidence prerequisites or an approval gate is held back until its arguments are
 * complete, then checked against the run's evidence and, where a gate applies, waits for an
 * operator: allowed, it is delivered whole; refused, the response is cut where the call began,
 * so no piece of it reaches the agent.
 */
export function contractResponse(desk: ApprovalDesk): ResponseStage {
  return {
    id: ID,
    band: 'contract',
    side: 'response',
    summary: "tool calls in the response: the contract's tools and action levels, evidence before guarded tools, approval gates (held until complete)",
    open(ctx) {
      const request = ctx.request;
      const contracts = request.contracts;
      const call = request.call;
      if (!contracts?.length || !call) return null;
      const evidence = request.evidence ?? [];
      const tracker = new ToolCallTracker();
      const held = new Map<string, number>();
      // Every call's tool was checked when its name arrived (inspect, `started`): a complete call
      // is judged on its evidence and its gate.
      const judge = (c: ToolCallInProgress): Judged => {
        held.delete(c.key);
        const r = checkEvidence(contracts, c.name, callArguments(c), evidence);
        if (r) return { index: 0, seq: c.startSeq, verdict: refusalVerdict(ID, r) };
        return approval(desk, request, contracts, c);
      };
      /** The earliest finding; approvals asked for calls before it are awaited in order. */
      const settle = (sync: FragmentFinding | null, waiting: Promise<FragmentFinding | null>[]): Judged => {
        if (waiting.length === 0) return sync;
        return (async () => {
          for (const w of waiting) {
            const found = await w;
            if (found) return found;
          }
          return sync;
        })();
      };
      return {
        unbounded: true,
        inspect(fragments: readonly Fragment[]): Judged {
          const waiting: Promise<FragmentFinding | null>[] = [];
          for (let i = 0; i < fragments.length; i++) {
            const f = fragments[i]!;
            if (!f.tools) continue;
            const { started, completed } = tracker.apply(f.tools, f.seq ?? i);
            for (const c of started) {
              for (const contract of contracts) {
                const r = checkTool(contract, c.name, schemaOf(call, c.name));
                if (r) return settle({ index: i, verdict: refusalVerdict(ID, r) }, waiting);
              }
              if (needsArguments(contracts, c.name)) held.set(c.key, c.startSeq);
            }
            for (const c of completed) {
              const found = judge(c);
              if (found instanceof Promise) waiting.push(found);
              else if (found) return settle(found, waiting);
            }
          }
          return settle(null, waiting);
        },
        heldFrom(): number | null {
          let min: number | null = null;
          for (const seq of held.values()) if (min === null || seq < min) min = seq;
          return min;
        },
        finish(): FragmentFinding | null {
          // Calls the stream ended inside: judged on what arrived. An operator is not asked
          // about a call that never completed; it is refused.
          for (const c of tracker.completeAll()) {
            held.delete(c.key);
            const r = checkEvidence(contracts, c.name, callArguments(c), evidence);
            if (r) return { index: 0, seq: c.startSeq, verdict: refusalVerdict(ID, r) };
            if (gateFor(contracts, c)) return { index: 0, seq: c.startSeq, verdict: block(ID, 'ALT_UPSTREAM_BAD_RESPONSE', `the response ended inside ${c.name}, which an approval gate holds`) };
          }
          return null;
        },
        close() {},
      };
    },
  };
}
