import { block } from '../../core/verdict.js';
import type { ApprovedPins } from '../../mcp-trust/approved-pins.js';
import type { ChangedTools, ListedTools } from '../../mcp-trust/tool-state.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { RequestStage } from '../stage.js';

const ID = 'mcp-tool-calls';

/**
 * `tools/call` to a server with pinned tools: a tool the policy does not approve for it, or one
 * whose last listing differed from its pin (stage mcp-tool-pins remembers), is refused before the
 * server runs it — an agent that kept an old tool list cannot call the rewritten tool. A tool an
 * operator approved after a change (ApprovedPins) counts as approved. On any server, a call of a
 * tool whose list was refused as a look-alike of another server's (shadowing, stage mcp-tool-pins)
 * is refused until that server lists without it, unless the tool is pinned.
 */
export function mcpToolCalls(policy: PolicyHolder, changed: ChangedTools, approved: ApprovedPins, listed: ListedTools): RequestStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'request',
    summary: 'MCP tools/call against the pinned tools and the other servers\' lists: an unapproved tool, one last listed changed, or a look-alike of another server\'s tool is refused before the server runs it',
    evaluate(ctx) {
      const mcp = ctx.call?.mcp;
      if (!mcp || ctx.call!.toolCalls.length === 0) return null;
      const pins = policy.current.mcp.get(mcp.server);
      const agent = ctx.principal?.agent ?? null;
      for (const call of ctx.call!.toolCalls) {
        const pinned = pins ? pins.tools.has(call.name) || approved.get(mcp.server, call.name) !== undefined : false;
        const shadowed = !pinned && agent !== null ? listed.shadowing(agent, mcp.server, call.name) : null;
        if (shadowed) return block(ID, 'ALT_MCP_TOOL_SHADOWED', `tool ${call.name} is named like tool ${shadowed.tool} that server ${shadowed.server} listed to this agent first (its list was refused for it)`);
        if (!pins) continue;
        if (changed.has(mcp.server, call.name)) return block(ID, 'ALT_MCP_TOOL_CHANGED', `tool ${call.name} was last listed changed from its approved pin`);
        if (!pinned && pins.unapproved === 'block') return block(ID, 'ALT_MCP_TOOL_UNAPPROVED', `tool ${call.name} is not approved for this server`);
      }
      return null;
    },
  };
}
