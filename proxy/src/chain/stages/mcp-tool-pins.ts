import type { RpcOutcome } from '../../core/fragment.js';
import { block, warn, type Verdict } from '../../core/verdict.js';
import { toolDigests, toolHints } from '../../mcp-trust/tool-digest.js';
import type { McpServerPins } from '../../policy/mcp-registry.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { RequestContext } from '../context.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';

const ID = 'mcp-tool-pins';
/** Tool definitions already digested, by their JSON: agents list the same tools session after session. */
const DIGESTED_MAX = 4096;
const digested = new Map<string, ReturnType<typeof toolDigests>>();

function digestsOf(tool: Record<string, unknown>): ReturnType<typeof toolDigests> {
  const key = JSON.stringify(tool);
  let d = digested.get(key);
  if (!d) {
    d = toolDigests(tool);
    if (digested.size >= DIGESTED_MAX) digested.delete(digested.keys().next().value!);
    digested.set(key, d);
  }
  return d;
}
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A server's `tools/list` answer against the tools the policy approved for it (`mcp.servers`):
 * a tool whose model-visible digest differs (a rewritten description: the rug pull) refuses the
 * list, naming the tool; a new tool or a changed schema structure refuses or flags per policy; a
 * changed read-only or destructive hint is always flagged. The agent gets the refusal as the
 * JSON-RPC error of its `tools/list`, so its SDK raises it; it never sees the unapproved list.
 */
export function mcpToolPins(policy: PolicyHolder): ResponseStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'response',
    summary: "MCP tools/list answers against the policy's pinned tools: a changed description refuses the list; new tools and changed schemas refuse or flag; changed hints flag",
    open({ request }) {
      const server = request.call?.mcp?.server;
      const pins = server === undefined ? undefined : policy.current.mcp.get(server);
      if (!pins) return null;
      return {
        inspect(fragments) {
          for (let i = 0; i < fragments.length; i++) {
            for (const outcome of fragments[i]!.outcomes ?? []) {
              const verdict = outcome.tools ? judge(request, pins, outcome) : null;
              if (verdict) return { index: i, verdict } satisfies FragmentFinding;
            }
          }
          return null;
        },
        close() {},
      };
    },
  };
}

function judge(request: RequestContext, pins: McpServerPins, outcome: RpcOutcome): Verdict | null {
  const flagged: string[] = [];
  const offered = new Set<string>();
  for (const tool of outcome.tools!) {
    if (!isRecord(tool) || typeof tool.name !== 'string') return block(ID, 'ALT_MCP_TOOL_CHANGED', 'the tool list holds an entry without a name');
    offered.add(tool.name);
    const pin = pins.tools.get(tool.name);
    if (!pin) {
      if (pins.unapproved === 'block') return block(ID, 'ALT_MCP_TOOL_UNAPPROVED', `tool ${tool.name} is not approved for this server`);
      flagged.push(`${tool.name} (unapproved)`);
      continue;
    }
    const digests = digestsOf(tool);
    if (digests.model !== pin.model) return block(ID, 'ALT_MCP_TOOL_CHANGED', `tool ${tool.name}: what the model reads (description, titles, annotations) differs from the approved pin`);
    if (digests.structure !== pin.structure) {
      if (pins.structureChange === 'block') return block(ID, 'ALT_MCP_TOOL_CHANGED', `tool ${tool.name}: its schema structure differs from the approved pin`);
      flagged.push(`${tool.name} (schema changed)`);
    }
    const hints = toolHints(tool);
    if ((pin.readOnly !== null && hints.readOnly !== pin.readOnly) || (pin.destructive !== null && hints.destructive !== pin.destructive)) flagged.push(`${tool.name} (hints changed)`);
  }
  if (flagged.length > 0 && !request.notes.some((n) => n.stage === ID)) request.notes.push(warn(ID, 'ALT_MCP_TOOL_FLAGGED', flagged.join(', ')));
  return null;
}
