// Bounds on text a request controls before it is recorded: a model name, a deployment, a
// function or run header, a verdict's detail that quotes them. Without them one request can
// write a megabyte into the audit log and the decision line (docs/audit.md, "Bounds").

/** Names: model, upstream, operation, function, run. */
export const MAX_RECORDED_NAME = 256;
/** A verdict's detail, which may quote a name or a tool's arguments. */
export const MAX_RECORDED_DETAIL = 1024;

/** `s` cut to `max` characters, saying how long it was; null and undefined pass as they are. */
export function bounded<T extends string | null | undefined>(s: T, max: number): T | string {
  if (s == null || s.length <= max) return s;
  return `${s.slice(0, max)}…[${s.length} chars]`;
}
