// How well the detectors tell a poisoned MCP tool definition from an honest one: each definition is
// scanned as the proxy scans a tools/list response (its strings, for injection and secrets), and any
// finding counts as "poisoned" — what blocking a tool on a description finding would do.
import { evaluateCorpus, poisons, TOOL_DEFINITION_FAMILIES, toolText, type CorpusItem, type DetectorSet, type LabelQuality } from '../../../proxy/src/index.js';

const POISONED = 'mcp.poisoning';

/** The text a tool definition puts before the model: every string of it (names, descriptions, schema titles, enums, annotations) and its telling keys (toolText). */
function toolDefinitionText(definition: string): string {
  try {
    return toolText(JSON.parse(definition) as unknown);
  } catch {
    // A source that gave only a description: the text is what the model reads.
    return definition;
  }
}

/** The labels the proxy's description scanning finds in one tool definition (secrets, injection.*). */
export function toolDefinitionLabels(set: DetectorSet, tool: unknown): string[] {
  return [...new Set(set.scan(toolText(tool), TOOL_DEFINITION_FAMILIES).map((f) => f.label))].filter(poisons);
}

/**
 * Precision and recall of "poisoned" over labelled tool definitions ({"text": <definition JSON>, "labels": ["mcp.poisoning"] or []});
 * `classified[i]`: a classifier also called item i poisoned.
 */
export function evaluateTools(set: DetectorSet, items: readonly CorpusItem[], classified?: readonly boolean[]): LabelQuality {
  const texts = items.map((i) => ({ ...i, text: toolDefinitionText(i.text) }));
  const flagged = texts.map((i, k) => classified?.[k] === true || set.scan(i.text, TOOL_DEFINITION_FAMILIES).some((f) => poisons(f.label)));
  const [quality] = evaluateCorpus(set, texts, { judged: (_i, label) => label === POISONED, extra: (i) => (flagged[i] ? [POISONED] : []) });
  return quality ?? { label: POISONED, truePositives: 0, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1, missed: [], wrong: [], categories: [] };
}
