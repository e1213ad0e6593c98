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
  walk(value, out, MIN_LENGTH, STRUCTURAL);
  return out;
}

/** The content strings of a JSON value, one per line: what a scan of a body it cannot read field by field sees. */
export function leavesText(value: unknown): string {
  let text = '';
  for (const leaf of stringLeaves(value)) text += (text ? '\n' : '') + leaf.text;
  return text;
}

/** Every string value in a JSON value, structural or short, with its path: where a match could be repeated. */
export function everyString(value: unknown): Leaf[] {
  const out: Leaf[] = [];
  walk(value, out, 0, null);
  return out;
}

const NO_SKIP: ReadonlySet<string> = new Set();

/**
 * Depth-first, in document order, with an explicit stack instead of recursion: a response
 * (an MCP server's tool result, say) is not held to the request's depth bound, and however
 * deep it nests this must not overflow the call stack. One path stack for the whole walk; a
 * leaf takes a copy only when it is kept. `path` holds, per open container, the key of the
 * child being visited.
 */
function walk(root: unknown, out: Leaf[], minLength: number, structural: ReadonlySet<string> | null): void {
  const skip = structural ?? NO_SKIP;
  const path: JsonPath = [];
  const containers: object[] = [];
  const keys: (string[] | null)[] = [];
  const next: number[] = [];
  let value = root;
  for (;;) {
    if (typeof value === 'string') {
      if (value.length >= minLength) out.push({ path: path.slice(), text: value });
    } else if (value !== null && typeof value === 'object') {
      containers.push(value);
      keys.push(Array.isArray(value) ? null : Object.keys(value));
      next.push(0);
      path.push(0);
    }
    // Move to the next child to visit, closing containers that have none left.
    for (;;) {
      const top = containers.length - 1;
      if (top < 0) return;
      const container = containers[top]!;
      const names = keys[top]!;
      const i = next[top]!;
      if (names === null ? i >= (container as unknown[]).length : i >= names.length) {
        containers.pop();
        keys.pop();
        next.pop();
        path.pop();
        continue;
      }
      next[top] = i + 1;
      if (names === null) {
        path[top] = i;
        value = (container as unknown[])[i];
        break;
      }
      const k = names[i]!;
      const v = (container as Record<string, unknown>)[k];
      if (skip.has(k) && typeof v === 'string') continue;
      path[top] = k;
      value = v;
      break;
    }
  }
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
