// Values that stand in for a secret in docs, templates and config examples: never the secret itself.

const STAND_IN =
  /^(?:\$\{?\w+\}?|<[^>]*>|\[[^\]]*\]|\{\{.*\}\}|%s|%\(\w+\)s|\*+|•+|x+|\.\.\.|your[_-]?\w*|pass(?:word)?|passwd|pwd|changeme|secret|token|example|user(?:name)?|anonymous|guest|redacted|hidden|null|none)$/i;
/** `DB_PASSWORD`, `API_TOKEN`: the name of a variable written where its value would go. */
const VARIABLE_NAME = /^[A-Z][A-Z_]*$/;

/** A whole value that is a template variable, a mask, a bracketed name, or a word for "your password here". */
export function isPlaceholder(value: string): boolean {
  return STAND_IN.test(value) || VARIABLE_NAME.test(value);
}

/** Names whose values describe a secret rather than hold it: its hash, length, file, URL, name, policy. */
export const DESCRIBES_A_SECRET = /(?:hash|digest|salt|len(?:gth)?|min|max|size|file|path|url|uri|endpoint|name|id|env|var|field|header|type|policy|prompt|label|regex|pattern|hint|placeholder|ttl|expiry|expires|age|rotation|count)$/i;
