import { block } from '../../core/verdict.js';
import type { ApprovedPins } from '../../mcp-trust/approved-pins.js';
import type { ChangedTools } from '../../mcp-trust/tool-state.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { RequestStage } from '../stage.js';

const ID = 'mcp-tool-calls';

/**
 * `tools/call` to a server with pinned tools: a tool the policy does not approve for it, or one
 * whose last listing differed from its pin (stage mcp-tool-pins remembers), is refused before the
 * server runs it — an agent that kept an old tool list cannot call the rewritten tool. A tool an
 * operator approved after a change (ApprovedPins) counts as approved.
 */
export function mcpToolCalls(policy: PolicyHolder, changed: ChangedTools, approved: ApprovedPins): RequestStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'request',
    summary: 'MCP tools/call against the pinned tools: an unapproved tool, or one last listed changed, is refused before the server runs it',
    evaluate(ctx) {
      const mcp = ctx.call?.mcp;
      const pins = mcp ? policy.current.mcp.get(mcp.server) : undefined;
      if (!mcp || !pins) return null;
      for (const call of ctx.call!.toolCalls) {
        if (changed.has(mcp.server, call.name)) return block(ID, 'ALT_MCP_TOOL_CHANGED', `tool ${call.name} was last listed changed from its approved pin`);
        if (!pins.tools.has(call.name) && !approved.get(mcp.server, call.name) && pins.unapproved === 'block') return block(ID, 'ALT_MCP_TOOL_UNAPPROVED', `tool ${call.name} is not approved for this server`);
      }
      return null;
    },
  };
}
