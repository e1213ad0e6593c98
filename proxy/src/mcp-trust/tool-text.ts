// What a tool definition puts before the model, as the detectors scan it: every string of it
// (name, description, schema titles and descriptions, enums, defaults, annotations), and the
// names of its parameters — a schema's property names are read by the model too, and a
// parameter named `content_from_ssh_id_rsa` asks for what it says.
import { isRecord } from '../providers/adapter.js';
import { leavesText } from '../scan/leaves.js';

/**
 * A property name a rule could read something in: words (a JSON key may be a sentence), or an identifier that names a
 * secret's place (`content_from_ssh_id_rsa`). Plain identifiers (`path`, `max_results`) are left out: every tool has
 * them, and scanning them costs a list of 100 tools a tenth of a millisecond for nothing.
 */
const TELLING_NAME = /[^\w.-]|.{41}|ssh|rsa|ed25519|ecdsa|private_?key|privatekey|credential|netrc|mcp_?json|env_?file|password|secret|token/i;

/** The telling property names of every `properties` object in a schema, depth first (bounded: a schema may nest deep). */
function parameterNames(schema: unknown, out: string[], depth = 0): void {
  if (schema === null || typeof schema !== 'object' || depth > 32 || out.length >= 1000) return;
  if (Array.isArray(schema)) {
    for (const sub of schema) parameterNames(sub, out, depth + 1);
    return;
  }
  const record = schema as Record<string, unknown>;
  // for…in, not Object.entries: a list of 100 tools walks a thousand objects, and the arrays were its garbage.
  for (const key in record) {
    const value = record[key];
    if (key === 'properties' && isRecord(value)) {
      for (const name in value) {
        if (TELLING_NAME.test(name)) out.push(name);
        parameterNames(value[name], out, depth + 1);
      }
    } else parameterNames(value, out, depth + 1);
  }
}

/** One tool's text: its strings, then a `parameter: <name>` line per telling property name. */
export function toolText(tool: unknown): string {
  const names: string[] = [];
  if (isRecord(tool)) {
    parameterNames(tool.inputSchema, names);
    parameterNames(tool.outputSchema, names);
  }
  const text = leavesText(tool);
  return names.length === 0 ? text : `${text}\nparameter: ${names.join('\nparameter: ')}`;
}
