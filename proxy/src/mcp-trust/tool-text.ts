// What a tool definition puts before the model, as the detectors scan it: every string of it, under
// any key and at any depth (name, description, schema titles and descriptions, enums, defaults,
// `$defs`, annotations, keys no schema defines — the model reads them all), and the keys that could
// say something — a JSON key may be a sentence, and a parameter named `content_from_ssh_id_rsa`
// asks for what it says.
import type { Family } from '../scan/detectors/types.js';

/** The detector families a tool definition is scanned with: the content rules, and those for definitions only. */
export const TOOL_DEFINITION_FAMILIES: ReadonlySet<Family> = new Set(['injection', 'secrets', 'tool-definitions']);

/** A finding that makes a definition poisoned: a secret in it, or anything it says to the model. */
export const poisons = (label: string): boolean => label === 'secret' || label.startsWith('injection.');

/**
 * A key a rule could read something in: words, or an identifier that names a secret's place
 * (`content_from_ssh_id_rsa`). Plain identifiers (`path`, `max_results`, `type`) are left out: every
 * tool has them, and scanning them costs a list of 100 tools a tenth of a millisecond for nothing.
 */
const TELLING_NAME = /[^\w.$-]|.{41}|ssh|rsa|ed25519|ecdsa|private_?key|privatekey|credential|netrc|mcp_?json|env_?file|password|secret|token/i;

/** Shorter strings hold no instruction a rule reads; four characters still hold two hidden tag characters. */
const MIN_STRING = 4;
/** Keys and values every schema is made of: said nothing, so neither tested nor scanned (a Set lookup is cheaper than the pattern). */
const SCHEMA_WORDS: ReadonlySet<string> = new Set([
  'name', 'title', 'description', 'type', 'properties', 'required', 'items', 'enum', 'default', 'format', 'inputSchema', 'outputSchema', 'annotations',
  'additionalProperties', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'anyOf', 'oneOf', 'allOf', 'const', 'examples',
  'readOnlyHint', 'destructiveHint', 'idempotentHint', 'openWorldHint', '$schema', '$ref', '$defs', 'definitions',
  'string', 'object', 'array', 'number', 'integer', 'boolean', 'null',
]);

/**
 * One tool's text: its strings, one per line, then a `parameter: <key>` line per telling key. Walked
 * with an explicit stack and no depth or count bound: whatever a server nests is read, at a cost
 * linear in the definition's size (bounded itself by the response size limit).
 */
export function toolText(tool: unknown): string {
  const strings: string[] = [];
  const keys: string[] = [];
  const stack: unknown[] = [tool];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value === 'string') {
      if (value.length >= MIN_STRING && !SCHEMA_WORDS.has(value)) strings.push(value);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i]);
    } else if (value !== null && typeof value === 'object') {
      const record = value as Record<string, unknown>;
      // for…in, not Object.entries: a list of 100 tools walks thousands of objects, and the arrays were its garbage.
      const children: unknown[] = [];
      for (const key in record) {
        if (!SCHEMA_WORDS.has(key) && TELLING_NAME.test(key)) keys.push(key);
        children.push(record[key]);
      }
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
    }
  }
  const text = strings.join('\n');
  return keys.length === 0 ? text : `${text}\nparameter: ${keys.join('\nparameter: ')}`;
}
