import { isRecord } from '../../providers/adapter.js';
import { block, warn, type Verdict } from '../../core/verdict.js';
import { poisons, TOOL_DEFINITION_FAMILIES, toolText } from '../../mcp-trust/tool-text.js';
import type { ClassifierSpec } from '../../scan/classifier/classifier.js';
import type { DetectorSet } from '../../scan/detectors/engine.js';
import type { Scanner } from '../../scan/pool.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { FragmentFinding, ResponseStage } from '../stage.js';

const ID = 'mcp-tool-descriptions';

/**
 * Every `tools/list` answer, pinned server or not: a tool whose definition (description, titles,
 * every nested description and enum in its schemas, annotations) speaks to the model — hidden
 * instructions, covert orders, orders about other tools, invisible Unicode — or carries a secret
 * refuses the list, naming the tool and what was found (`mcp.descriptions: flag` delivers it with
 * a warning instead). The whole list is scanned once; only a list with a finding is scanned tool
 * by tool, to name the culprit. The classifiers the policy names for definitions
 * (`mcp.description_classifiers`) read each tool on the scan workers: a score at or above a
 * classifier's threshold poisons that tool as a finding of the rules does (`classifier.<id>`).
 */
export function mcpToolDescriptions(policy: PolicyHolder, detectors: DetectorSet, pool?: Scanner): ResponseStage {
  return {
    id: ID,
    band: 'mcp',
    side: 'response',
    summary: 'MCP tools/list answers scanned tool by tool for poisoning (instructions to the model, covert orders, invisible Unicode, secrets), and read by the classifiers the policy names for definitions: refused, or flagged per policy',
    open({ request }) {
      if (!request.call?.mcp) return null;
      return {
        inspect(fragments) {
          const { mcpDescriptions: action, mcpDescriptionClassifiers: classifiers } = policy.current;
          const lists: { index: number; tools: readonly unknown[] }[] = [];
          for (let i = 0; i < fragments.length; i++) for (const outcome of fragments[i]!.outcomes ?? []) if (outcome.tools) lists.push({ index: i, tools: outcome.tools });
          if (lists.length === 0) return null;
          // Without a classifier for definitions, the rules alone decide, in this turn.
          const scorer = classifiers.length > 0 ? pool : undefined;
          if (!scorer) {
            for (const { index, tools } of lists) {
              const verdict = judge(request.notes, action, ruleFindings(detectors, tools));
              if (verdict) return { index, verdict } satisfies FragmentFinding;
            }
            return null;
          }
          return (async () => {
            for (const { index, tools } of lists) {
              const found = ruleFindings(detectors, tools);
              const scored = await classified(scorer, classifiers, found.texts);
              const verdict = judge(request.notes, action, { ...found, perTool: found.perTool.map((labels, t) => [...labels, ...scored[t]!]) });
              if (verdict) return { index, verdict } satisfies FragmentFinding;
            }
            return null;
          })();
        },
        close() {},
      };
    },
  };
}

interface ListFindings {
  /** Each tool's definition as the model reads it (toolText), in the list's order. */
  texts: string[];
  names: string[];
  /** Per tool, what poisons it: the labels of the rules' findings, later `classifier.<id>`. */
  perTool: string[][];
  /** The list as a whole has a finding (it may span tools, in no one of them). */
  whole: boolean;
}

function ruleFindings(detectors: DetectorSet, tools: readonly unknown[]): ListFindings {
  const texts = tools.map(toolText);
  const names = tools.map((tool) => (isRecord(tool) && typeof tool.name === 'string' ? tool.name : '(unnamed)'));
  if (!detectors.scan(texts.join('\n'), TOOL_DEFINITION_FAMILIES).some((f) => poisons(f.label))) return { texts, names, perTool: tools.map(() => []), whole: false };
  const perTool = texts.map((text) => [...new Set(detectors.scan(text, TOOL_DEFINITION_FAMILIES).filter((f) => poisons(f.label)).map((f) => f.label))]);
  return { texts, names, perTool, whole: true };
}

/** Per tool, the declared classifiers that score its definition at or above their threshold, as `classifier.<id>`; one that cannot run fails the stage (closed). */
async function classified(pool: Scanner, classifiers: readonly ClassifierSpec[], texts: string[]): Promise<string[][]> {
  const scores = await Promise.all(classifiers.map((classifier) => pool.classify({ kind: 'classify', classifier, texts })));
  return texts.map((_, t) => classifiers.flatMap((c, k) => (scores[k]![t]! >= c.threshold ? [`classifier.${c.id}`] : [])));
}

function judge(notes: Verdict[], action: 'block' | 'flag', list: ListFindings): Verdict | null {
  const found = list.perTool.flatMap((labels, t) => (labels.length > 0 ? [`tool ${list.names[t]}: ${labels.join(', ')}`] : []));
  if (found.length === 0 && !list.whole) return null;
  // Found in the list but in no one tool: it spans tools (text split across entries); the list as a whole is refused.
  const detail = found.length > 0 ? found.join('; ') : 'the list as a whole';
  if (action === 'block') return block(ID, 'ALT_MCP_TOOL_POISONED', detail);
  if (!notes.some((n) => n.stage === ID)) notes.push(warn(ID, 'ALT_MCP_TOOL_FLAGGED', detail));
  return null;
}
