import { block, warn } from '../../core/verdict.js';
import { returnedToolCalls } from '../../core/call-view.js';
import { inferredLabels, type ToolFlows } from '../../mcp-trust/flows.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { FragmentFinding, RequestStage, ResponseStage } from '../stage.js';
import { flowKey } from './mcp-toxic-flows.js';

const ID = 'function-toxic-flow';

/**
 * Toxic flows through the model's own function tools (issue 23), beside MCP's: the tools whose
 * results a model request carries are remembered per run with the labels their names give
 * (docs/mcp.md, "Toxic flows"), once each; MCP calls of the same run count too, and these count
 * for MCP's sinks. Decides nothing.
 */
export function functionFlowRecord(policy: PolicyHolder, flows: ToolFlows, now: () => number = Date.now): RequestStage {
  return {
    id: 'function-flow-record',
    band: 'mcp',
    side: 'request',
    summary: "function tools whose results a model request carries are remembered per run with their toxic-flow labels (from their names); decides nothing",
    evaluate(ctx) {
      const call = ctx.call;
      if (!call || call.mcp || call.toolResults.length === 0 || !policy.current.toxicFlows) return null;
      const key = flowKey(ctx);
      if (key === null) return null;
      const at = now();
      // Each result once per run: the history repeats it in every later request.
      returnedToolCalls(call).forEach(({ call: c, result }, i) => flows.record(key, c.name, inferredLabels(c.name), at, result.id ?? c.id ?? `${c.name}#${i}`));
      return null;
    },
  };
}

/**
 * A tool call in the model's answer to a public sink (a tool that sends, posts or publishes, by
 * its name), in a run whose tools already brought untrusted content and read private data: the
 * answer is cut at the fragment that names the call, so the agent never receives it and never
 * runs the tool. Under `mcp.toxic_flows: flag` it is delivered with a warning.
 */
export function functionToxicFlow(policy: PolicyHolder, flows: ToolFlows, now: () => number = Date.now): ResponseStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'response',
    summary: "the model's tool calls to a public sink after untrusted content and private data in the same run (function tools and MCP): cut at the call",
    open({ request, errorBody }) {
      const toxic = policy.current.toxicFlows;
      const key = toxic && request.call && !request.call.mcp && !errorBody ? flowKey(request) : null;
      if (!toxic || key === null) return null;
      let flagged = false;
      return {
        inspect(fragments) {
          for (let i = 0; i < fragments.length; i++) {
            for (const delta of fragments[i]!.tools ?? []) {
              if (!delta.name || !inferredLabels(delta.name).includes('public_sink')) continue;
              const before = flows.toxicBefore(key, now());
              if (!before) continue;
              const detail = `the model calls ${delta.name}, a public sink, after ${before.untrusted} (untrusted content) and ${before.privateData} (private data) in this run`;
              if (toxic.action === 'block') return { index: i, verdict: block(ID, 'ALT_TOOL_TOXIC_FLOW', detail) } satisfies FragmentFinding;
              if (!flagged) request.notes.push(warn(ID, 'ALT_MCP_TOOL_FLAGGED', `toxic flow: ${detail}`));
              flagged = true;
            }
          }
          return null;
        },
        close() {},
      };
    },
  };
}
