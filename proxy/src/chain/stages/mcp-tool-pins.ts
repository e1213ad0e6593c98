import { isRecord } from '../../providers/adapter.js';
import type { RpcOutcome } from '../../core/fragment.js';
import { block, warn, type Verdict } from '../../core/verdict.js';
import { toolDigests, toolHints } from '../../mcp-trust/tool-digest.js';
import type { ApprovedPins, PinProposal } from '../../mcp-trust/approved-pins.js';
import { nameCollides, type ChangedTools, type Collision, type ListedTools } from '../../mcp-trust/tool-state.js';
import type { McpRegistry, McpServerPins, PinnedTool } from '../../policy/mcp-registry.js';
import type { PolicyHolder } from '../../policy/policy.js';
import { runOf, type RequestContext } from '../context.js';
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

/**
 * A server's `tools/list` answer against the tools the policy approved for it (`mcp.servers`):
 * a tool whose model-visible digest differs (a rewritten description: the rug pull) refuses the
 * list, naming the tool; a new tool or a changed schema structure refuses or flags per policy; a
 * changed read-only or destructive hint is always flagged. The agent gets the refusal as the
 * JSON-RPC error of its `tools/list`, so its SDK raises it; it never sees the unapproved list.
 */
export function mcpToolPins(policy: PolicyHolder, changed: ChangedTools, approved: ApprovedPins, listed: ListedTools): ResponseStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'response',
    summary: "MCP tools/list answers against the policy's pinned tools and the other servers' lists: a changed description refuses the list; a look-alike of another server's tool refuses it; new tools and changed schemas refuse or flag; changed hints flag",
    open({ request }) {
      const server = request.call?.mcp?.server;
      const registry = policy.current.mcp;
      // Every server's list is held against the others' pins and the others' lists to the same agent (shadowing); its own pins, where it has them.
      if (server === undefined) return null;
      const agent = request.principal?.agent ?? null;
      // The names of the lists this answer carries, recorded once it reached the agent uncut.
      let passed: string[] | null = null;
      return {
        inspect(fragments) {
          for (let i = 0; i < fragments.length; i++) {
            for (const outcome of fragments[i]!.outcomes ?? []) {
              if (!outcome.tools) continue;
              const verdict = judge(request, server, registry, changed, approved, outcome, (name) => shadowedBy(registry, server, name) ?? (agent === null ? null : lookalike(agent, server, name)));
              if (verdict) return { index: i, verdict } satisfies FragmentFinding;
              passed = outcome.tools.flatMap((t) => (isRecord(t) && typeof t.name === 'string' ? [t.name] : []));
            }
          }
          return null;
        },
        close(delivered) {
          // What the agent's model now reads from this server: later lists of other servers are held
          // against it. A list another stage refused (or a cut answer) never reached the model.
          if (delivered && passed !== null && agent !== null) listed.record(agent, server, passed);
        },
      };
    },
  };

  /** A tool another server listed to this agent first: this one's list is refused, and calls of it until it lists without it. */
  function lookalike(agent: string, server: string, name: string): Collision | null {
    const c = listed.collision(agent, server, name);
    if (c) listed.shadowed(agent, server, name, c);
    return c;
  }
}

function judge(request: RequestContext, server: string, registry: McpRegistry, changed: ChangedTools, approved: ApprovedPins, outcome: RpcOutcome, shadows: (name: string) => Collision | null): Verdict | null {
  const pins: McpServerPins | undefined = registry.get(server);
  const flagged: string[] = [];
  let refusal: Verdict | null = null;
  const refuse = (v: Verdict) => void (refusal ??= v);
  // A change an operator may approve: the tool as it is listed now, pinned if they do.
  const propose = (tool: Record<string, unknown>, name: string, change: PinProposal['change']): string => {
    if (!pins || !approved.desk || !request.principal) return '';
    const d = digestsOf(tool);
    const h = toolHints(tool);
    const p = request.principal;
    const id = approved.desk.propose({ server, tool: name, model: d.model, structure: d.structure, readOnly: h.readOnly, destructive: h.destructive, change }, { requestId: request.id, agent: p.agent, team: p.team, keyId: p.keyId, run: runOf(request.headers) });
    return id ? `; approval ${id} reviews it` : '';
  };
  for (const tool of outcome.tools!) {
    if (!isRecord(tool) || typeof tool.name !== 'string') {
      refuse(block(ID, 'ALT_MCP_TOOL_CHANGED', 'the tool list holds an entry without a name'));
      continue;
    }
    const name = tool.name;
    const policyPin = pins?.tools.get(name);
    const operatorPin = pins ? approved.get(server, name) : undefined;
    if (!policyPin && !operatorPin) {
      const shadowed = shadows(name);
      if (shadowed) refuse(block(ID, 'ALT_MCP_TOOL_SHADOWED', `tool ${name} is named like tool ${shadowed.tool} of server ${shadowed.server}`));
      else if (pins?.unapproved === 'block') {
        refuse(block(ID, 'ALT_MCP_TOOL_UNAPPROVED', `tool ${name} is not approved for this server${propose(tool, name, 'new')}`));
      } else if (pins) flagged.push(`${name} (unapproved)`);
      continue;
    }
    const digests = digestsOf(tool);
    // The policy's pin, or the one an operator approved since: whichever the tool reads as.
    const pin: PinnedTool = [policyPin, operatorPin].find((p) => p?.model === digests.model && p.structure === digests.structure) ?? [policyPin, operatorPin].find((p) => p?.model === digests.model) ?? (policyPin ?? operatorPin)!;
    // Every changed tool is remembered, not just the first: calls to any of them are refused.
    if (digests.model !== pin.model) {
      changed.mark(server, name);
      refuse(block(ID, 'ALT_MCP_TOOL_CHANGED', `tool ${name}: what the model reads (description, titles, annotations) differs from the approved pin${propose(tool, name, 'changed')}`));
      continue;
    }
    if (digests.structure !== pin.structure) {
      if (pins!.structureChange === 'block') {
        changed.mark(server, name);
        refuse(block(ID, 'ALT_MCP_TOOL_CHANGED', `tool ${name}: its schema structure differs from the approved pin${propose(tool, name, 'changed')}`));
        continue;
      }
      flagged.push(`${name} (schema changed)`);
    }
    changed.clear(server, name);
    const hints = toolHints(tool);
    if ((pin.readOnly !== null && hints.readOnly !== pin.readOnly) || (pin.destructive !== null && hints.destructive !== pin.destructive)) flagged.push(`${name} (hints changed)`);
  }
  if (refusal) return refusal;
  if (flagged.length > 0 && !request.notes.some((n) => n.stage === ID)) request.notes.push(warn(ID, 'ALT_MCP_TOOL_FLAGGED', flagged.join(', ')));
  return null;
}

/** A tool pinned for another server whose name this one collides with (equal but for case, or one edit apart). */
function shadowedBy(registry: McpRegistry, server: string, name: string): Collision | null {
  for (const [other, pins] of registry) {
    if (other === server) continue;
    for (const tool of pins.tools.keys()) if (nameCollides(name, tool)) return { server: other, tool };
  }
  return null;
}
