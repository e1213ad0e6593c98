// JSON Canonicalization Scheme (RFC 8785): one byte sequence per JSON value, so a digest of a tool
// definition changes when what it says changes and never when a server reorders its keys.

function serialize(value: unknown, out: string[]): void {
  if (value === null || typeof value === 'boolean') return void out.push(String(value));
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('JSON has no NaN or Infinity');
    // ECMAScript's Number-to-String is the shortest round-trip form RFC 8785 §3.2.2.3 prescribes; -0 is 0.
    return void out.push(Object.is(value, -0) ? '0' : String(value));
  }
  // JSON.stringify escapes as §3.2.2.2 asks: \b \t \n \f \r \" \\, other controls as \u00xx, lone surrogates as \udxxx.
  if (typeof value === 'string') return void out.push(JSON.stringify(value));
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((v, i) => {
      if (i) out.push(',');
      serialize(v === undefined ? null : v, out);
    });
    return void out.push(']');
  }
  if (typeof value === 'object') {
    // Keys sorted by their UTF-16 code units, which is what the default sort compares.
    const keys = Object.keys(value as object).filter((k) => (value as Record<string, unknown>)[k] !== undefined).sort();
    out.push('{');
    keys.forEach((k, i) => {
      if (i) out.push(',');
      out.push(JSON.stringify(k), ':');
      serialize((value as Record<string, unknown>)[k], out);
    });
    return void out.push('}');
  }
  throw new TypeError(`not a JSON value: ${typeof value}`);
}

export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  serialize(value, out);
  return out.join('');
}
