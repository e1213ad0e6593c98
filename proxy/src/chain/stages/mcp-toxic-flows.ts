import { block, warn } from '../../core/verdict.js';
import { inferredLabels, type FlowLabel, type ToolFlows } from '../../mcp-trust/flows.js';
import type { PolicyHolder } from '../../policy/policy.js';
import { rpcKey } from '../../providers/mcp/parse.js';
import { runOf, type RequestContext } from '../context.js';
import type { RequestStage, ResponseStage } from '../stage.js';

const ID = 'mcp-toxic-flow';

/** A tool's labels: its pin's, else inferred from its name; every tool of an untrusted server brings untrusted content. */
function labelsOf(policy: PolicyHolder, server: string, tool: string): readonly FlowLabel[] {
  const entry = policy.current.mcp.get(server);
  const labels = entry?.tools.get(tool)?.labels ?? inferredLabels(tool);
  return entry?.trust === 'untrusted' && !labels.includes('untrusted_content') ? [...labels, 'untrusted_content'] : labels;
}

/** The run a flow belongs to: the agent's run id, else the agent itself (its MCP sessions are per server). */
export function flowKey(ctx: RequestContext): string | null {
  const run = runOf(ctx.headers);
  if (run && !run.startsWith('mcp-session:')) return `run:${run}`;
  return ctx.principal ? `agent:${ctx.principal.agent}` : null;
}

/**
 * A `tools/call` to a public sink (a tool that sends, posts or publishes) in a run that already
 * called a tool bringing untrusted content and one reading private data: the injected content can
 * have told the agent to send the private data out. Stopped at the sink, naming the earlier calls.
 */
export function mcpToxicFlow(policy: PolicyHolder, flows: ToolFlows, now: () => number = Date.now): RequestStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'request',
    summary: 'MCP tools/call to a public sink after untrusted content and private data in the same run: stopped at the sink (labels from pins, else tool names)',
    evaluate(ctx) {
      const toxic = policy.current.toxicFlows;
      const mcp = ctx.call?.mcp;
      const key = mcp && toxic ? flowKey(ctx) : null;
      if (!mcp || !toxic || key === null) return null;
      for (const call of ctx.call!.toolCalls) {
        if (!labelsOf(policy, mcp.server, call.name).includes('public_sink')) continue;
        const before = flows.toxicBefore(key, now());
        if (!before) continue;
        const detail = `${call.name} is a public sink, called after ${before.untrusted} (untrusted content) and ${before.privateData} (private data) in this run`;
        if (toxic.action === 'block') return block(ID, 'ALT_MCP_TOXIC_FLOW', detail);
        ctx.notes.push(warn(ID, 'ALT_MCP_TOOL_FLAGGED', `toxic flow: ${detail}`));
      }
      return null;
    },
  };
}

/** Records, per run, the labels of the MCP tool calls that returned (what the run has seen and read). */
export function mcpFlowRecord(policy: PolicyHolder, flows: ToolFlows, now: () => number = Date.now): ResponseStage {
  return {
    id: 'mcp-flow-record',
    band: 'mcp',
    side: 'response',
    summary: 'MCP tool calls that returned are remembered per run with their toxic-flow labels; decides nothing',
    open({ request }) {
      const mcp = request.call?.mcp;
      const key = mcp && policy.current.toxicFlows ? flowKey(request) : null;
      if (!mcp || key === null || request.call!.toolCalls.length === 0) return null;
      return {
        inspect(fragments) {
          for (const f of fragments) {
            for (const o of f.outcomes ?? []) {
              if (o.failed) continue;
              const id = rpcKey(o.id);
              const call = request.call!.toolCalls.find((c) => c.id === id);
              if (call) flows.record(key, call.name, labelsOf(policy, mcp.server, call.name), now());
            }
          }
          return null;
        },
        close() {},
      };
    },
  };
}
