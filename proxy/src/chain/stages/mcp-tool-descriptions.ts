import { isRecord } from '../../providers/adapter.js';
import { block, warn, type Verdict } from '../../core/verdict.js';
import { poisons, TOOL_DEFINITION_FAMILIES, toolText } from '../../mcp-trust/tool-text.js';
import type { DetectorSet } from '../../scan/detectors/engine.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';

const ID = 'mcp-tool-descriptions';

/**
 * Every `tools/list` answer, pinned server or not: a tool whose definition (description, titles,
 * every nested description and enum in its schemas, annotations) speaks to the model — hidden
 * instructions, covert orders, orders about other tools, invisible Unicode — or carries a secret
 * refuses the list, naming the tool and what was found (`mcp.descriptions: flag` delivers it with
 * a warning instead). The whole list is scanned once; only a list with a finding is scanned tool
 * by tool, to name the culprit.
 */
export function mcpToolDescriptions(policy: PolicyHolder, detectors: DetectorSet): ResponseStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'response',
    summary: 'MCP tools/list answers scanned tool by tool for poisoning (instructions to the model, covert orders, invisible Unicode, secrets): refused, or flagged per policy',
    open({ request }) {
      if (!request.call?.mcp) return null;
      return {
        inspect(fragments) {
          for (let i = 0; i < fragments.length; i++) {
            for (const outcome of fragments[i]!.outcomes ?? []) {
              const verdict = outcome.tools ? judge(request.notes, policy.current.mcpDescriptions, detectors, outcome.tools) : null;
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

function judge(notes: Verdict[], action: 'block' | 'flag', detectors: DetectorSet, tools: readonly unknown[]): Verdict | null {
  const texts = tools.map(toolText);
  if (!detectors.scan(texts.join('\n'), TOOL_DEFINITION_FAMILIES).some((f) => poisons(f.label))) return null;
  const found: string[] = [];
  for (const [i, tool] of tools.entries()) {
    const labels = [...new Set(detectors.scan(texts[i]!, TOOL_DEFINITION_FAMILIES).filter((f) => poisons(f.label)).map((f) => f.label))];
    if (labels.length > 0) found.push(`tool ${isRecord(tool) && typeof tool.name === 'string' ? tool.name : '(unnamed)'}: ${labels.join(', ')}`);
  }
  // Found in the list but in no one tool: it spans tools (text split across entries); the list as a whole is refused.
  const detail = found.length > 0 ? found.join('; ') : 'the list as a whole';
  if (action === 'block') return block(ID, 'ALT_MCP_TOOL_POISONED', detail);
  if (!notes.some((n) => n.stage === ID)) notes.push(warn(ID, 'ALT_MCP_TOOL_FLAGGED', detail));
  return null;
}
