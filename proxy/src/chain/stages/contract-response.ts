import { checkTool, checkToolCall, evidenceRulesFor, schemaOf } from '../../contracts/evaluate.js';
import { callArguments, ToolCallTracker, type ToolCallInProgress } from '../../contracts/tool-calls.js';
import type { Fragment } from '../context.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';
import { refusalVerdict } from './contract-request.js';

const ID = 'contract-tool-calls';

/**
 * Behavioral contracts, response side: every tool call the model makes is checked before the
 * agent sees it. A tool the contract does not allow is cut at the fragment that names it. A
 * call with evidence prerequisites is held back until its arguments are complete, then checked
 * against the run's evidence: allowed, it is delivered; refused, the response is cut where the
 * call began, so no piece of it reaches the agent.
 */
export function contractResponse(): ResponseStage {
  return {
    id: ID,
    band: 'contract',
    side: 'response',
    summary: "tool calls in the response: the contract's tools and action levels, and evidence before guarded tools (held until complete)",
    open(ctx) {
      const contracts = ctx.request.contracts;
      const call = ctx.request.call;
      if (!contracts?.length || !call) return null;
      const evidence = ctx.request.evidence ?? [];
      const tracker = new ToolCallTracker();
      const held = new Map<string, number>();
      const judge = (c: ToolCallInProgress): FragmentFinding | null => {
        held.delete(c.key);
        const r = checkToolCall(contracts, call, c.name, callArguments(c), evidence);
        return r ? { index: 0, seq: c.startSeq, verdict: refusalVerdict(ID, r) } : null;
      };
      return {
        inspect(fragments: readonly Fragment[]): FragmentFinding | null {
          for (let i = 0; i < fragments.length; i++) {
            const f = fragments[i]!;
            if (!f.tools) continue;
            const { started, completed } = tracker.apply(f.tools, f.seq ?? i);
            for (const c of started) {
              for (const contract of contracts) {
                const r = checkTool(contract, c.name, schemaOf(call, c.name));
                if (r) return { index: i, verdict: refusalVerdict(ID, r) };
              }
              if (evidenceRulesFor(contracts, c.name).length > 0) held.set(c.key, c.startSeq);
            }
            for (const c of completed) {
              const found = judge(c);
              if (found) return found;
            }
          }
          return null;
        },
        heldFrom(): number | null {
          let min: number | null = null;
          for (const seq of held.values()) if (min === null || seq < min) min = seq;
          return min;
        },
        finish(): FragmentFinding | null {
          for (const c of tracker.completeAll()) {
            const found = judge(c);
            if (found) return found;
          }
          return null;
        },
        close() {},
      };
    },
  };
}
