/**
 * The text a request body carries: every string value in its JSON, with the path to it, so
 * a finding can be redacted in place. Structural string fields (model names, roles, ids,
 * types) are skipped: they are not content and redacting them would break the request. An
 * object or array under such a key (a tool argument named `id`, a schema property named
 * `type`) is content and is walked.
 */

export type JsonPath = (string | number)[];

export interface Leaf {
  path: JsonPath;
  text: string;
}

const STRUCTURAL = new Set(['model', 'role', 'type', 'id', 'tool_call_id', 'tool_use_id', 'finish_reason', 'stop_reason', 'object', 'mimeType', 'mime_type', 'media_type', 'anthropic_version', 'modelId']);

/** Shorter strings cannot hold any detector's match (the shortest is an email like a@b.co). */
const MIN_LENGTH = 6;

export function stringLeaves(value: unknown): Leaf[] {
  const out: Leaf[] = [];
  walk(value, [], out);
  return out;
}

/** The content strings of a JSON value, one per line: what a scan of a body it cannot read field by field sees. */
export function leavesText(value: unknown): string {
  let text = '';
  for (const leaf of stringLeaves(value)) text += (text ? '\n' : '') + leaf.text;
  return text;
}

// One path stack for the whole walk; a leaf takes a copy only when it is kept.
function walk(value: unknown, path: JsonPath, out: Leaf[]): void {
  if (typeof value === 'string') {
    if (value.length >= MIN_LENGTH) out.push({ path: path.slice(), text: value });
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walk(value[i], path, out);
      path.pop();
    }
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const k in record) {
      if (!Object.hasOwn(record, k) || (STRUCTURAL.has(k) && typeof record[k] === 'string')) continue;
      path.push(k);
      walk(record[k], path, out);
      path.pop();
    }
  }
}

/** Every string value in a JSON value, structural or short, with its path: where a match could be repeated. */
export function everyString(value: unknown): Leaf[] {
  const out: Leaf[] = [];
  const visit = (v: unknown, path: JsonPath): void => {
    if (typeof v === 'string') out.push({ path: path.slice(), text: v });
    else if (Array.isArray(v)) v.forEach((x, i) => visit(x, [...path, i]));
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, [...path, k]);
  };
  visit(value, []);
  return out;
}

/** The object or array holding the value at path. */
export function parentAt(root: unknown, path: JsonPath): unknown {
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]!] as Record<string | number, unknown>;
  return node;
}

/** Sets the string at path in a structure of plain objects and arrays. */
export function setAt(root: unknown, path: JsonPath, value: string): void {
  let node = root as Record<string | number, unknown>;
  for (let i = 0; i < path.length - 1; i++) node = node[path[i]!] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}

/** Replaces each span (offsets into text, possibly overlapping) with `[REDACTED:label]`. */
export function redactSpans(text: string, spans: readonly { start: number; end: number; label: string }[]): string {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const s of sorted) {
    if (s.end <= at) continue;
    out += text.slice(at, Math.max(at, s.start)) + `[REDACTED:${s.label}]`;
    at = s.end;
  }
  return out + text.slice(at);
}
