/**
 * How deep JSON text nests, measured on the text before it is parsed. JSON.parse itself
 * copes with any depth, but JSON.stringify and every recursive walk over the parsed value
 * overflow the call stack somewhere near 10,000 levels; bounding the depth where a body
 * enters keeps everything after it safe.
 */

/**
 * The largest bound the configuration accepts: every walk and serialisation of request data
 * stays well within the call stack up to this depth. JSON text nested inside a string (tool
 * arguments) is held to it too.
 */
export const MAX_JSON_DEPTH_CEILING = 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Whether `text` opens more than `limit` arrays or objects inside one another. String
 * contents are skipped with indexOf (most of a request's bytes are prompt text), so the
 * scan costs a fraction of the parse. Malformed text is left for JSON.parse to name.
 */
export function jsonDeeperThan(text: string, limit: number): boolean {
  // Each level needs at least one byte: text this short cannot exceed the limit.
  if (text.length <= limit) return false;
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = closingQuote(text, i + 1);
      if (i < 0) return false;
    } else if (c === OPEN_ARRAY || c === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that ends the string whose content starts at `from`; -1 when unterminated. */
function closingQuote(text: string, from: number): number {
  for (let at = text.indexOf('"', from); at >= 0; at = text.indexOf('"', at + 1)) {
    let slashes = 0;
    while (text.charCodeAt(at - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return at;
  }
  return -1;
}

/**
 * What an upstream answer (a whole body, one stream event) may nest at most before Altrace
 * refuses it: the provider's format never comes near it, and every walk over an answer (the
 * adapters' text, tool arguments re-serialised, the scanners) is safe up to it. Fixed, not
 * limits.max_json_depth: that bounds what clients send, and an operator tightening it for
 * clients must not start refusing providers' answers.
 */
export const MAX_UPSTREAM_JSON_DEPTH = MAX_JSON_DEPTH_CEILING;

/** The refusal's wording, shared by every place a body enters (data plane, evidence, control API). */
export function tooDeepMessage(limit: number): string {
  return `the body nests arrays and objects more than ${limit} levels deep (the limit is limits.max_json_depth = ${limit})`;
}
