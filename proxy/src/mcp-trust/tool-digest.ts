// Two digests per MCP tool (issue 23): what the model reads, and the shape of what it may send.
// A changed description is a different instruction to the model; a widened schema is a different
// capability; they are pinned apart so a policy can treat them apart.
import { isRecord } from '../providers/adapter.js';
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';


/** Schema words that tell the model something; everything else in a schema is structure. */
const TEXT_KEYS = new Set(['description', 'title', 'examples', 'default', '$comment', 'deprecated']);

/** A schema with its words only (every nested description and title, where they sit), or its structure only. */
function split(schema: unknown, keep: 'text' | 'structure'): unknown {
  if (Array.isArray(schema)) {
    const parts = schema.map((s) => split(s, keep));
    // In the words-only view, a list of plain values (`required`, `enum`, `type: [...]`) holds no words.
    return keep === 'text' && parts.every((p) => p === undefined) ? undefined : parts.map((p) => (p === undefined ? null : p));
  }
  if (!isRecord(schema)) return keep === 'structure' ? schema : undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) {
    // Property names are both: the model reads them, and they are the shape.
    if (k === 'properties' && isRecord(v)) {
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, split(s, keep)]));
      continue;
    }
    if (TEXT_KEYS.has(k)) {
      if (keep === 'text') out[k] = v;
      continue;
    }
    if (keep === 'structure') out[k] = isRecord(v) || Array.isArray(v) ? split(v, keep) : v;
    else if (isRecord(v) || Array.isArray(v)) {
      const text = split(v, keep);
      if (text !== undefined && !isEmpty(text)) out[k] = text;
    }
  }
  return out;
}

/** `{}` or `[]`: a subschema with no words in it, which the words-only view leaves out. */
function isEmpty(v: unknown): boolean {
  return Array.isArray(v) ? v.length === 0 : isRecord(v) && Object.keys(v).length === 0;
}

function sha256(value: unknown): string {
  return `sha256:${createHash('sha256').update(canonicalJson(value)).digest('hex')}`;
}

export interface ToolDigests {
  /** Name, title, description, annotations, and every word in the input and output schemas. */
  model: string;
  /** Types, properties, required fields, enums: what the tool accepts and returns. */
  structure: string;
}

export function toolDigests(tool: Record<string, unknown>): ToolDigests {
  const model = {
    name: tool.name,
    title: tool.title,
    description: tool.description,
    annotations: tool.annotations,
    input: split(tool.inputSchema, 'text'),
    output: split(tool.outputSchema, 'text'),
  };
  const structure = { input: split(tool.inputSchema, 'structure'), output: split(tool.outputSchema, 'structure') };
  return { model: sha256(model), structure: sha256(structure) };
}

/** The behaviour hints a tool declares (MCP annotations); a change is always reported. */
export function toolHints(tool: Record<string, unknown>): { readOnly: boolean | null; destructive: boolean | null } {
  const a = isRecord(tool.annotations) ? tool.annotations : {};
  return { readOnly: typeof a.readOnlyHint === 'boolean' ? a.readOnlyHint : null, destructive: typeof a.destructiveHint === 'boolean' ? a.destructiveHint : null };
}
