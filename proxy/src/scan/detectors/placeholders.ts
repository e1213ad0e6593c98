// Values that stand in for a secret in docs, templates and config examples: never the secret itself.

const STAND_IN =
  /^(?:\$\{?\w+\}?|\$\(\w+\)|%\w+%|\{[\w. -]*\}|<[^>]*>|\[[^\]]*\]|\{\{.*\}\}|%s|%\(\w+\)s|\*+|•+|#+|x+|\?+|\.\.\.|your[_-]?\w*|my[_-]?pass(?:word)?|pass(?:word)?|passwd|pwd|changeme|change[_-]?me|secret|token|example|test|testing|dummy|fake|foo|bar|foo[_-]?bar|asdf|1234(?:5(?:6(?:7(?:8(?:9(?:0)?)?)?)?)?)?|user(?:name)?|anonymous|guest|redacted|hidden|masked|null|nil|none|undefined|true|false|required|optional|string|str|text|bool|boolean|number|int|integer|bytes|any|object)$/i;
/** Made-up compounds: `mysecretpassword`, `testpass`, `supersecret`; and Java's keystore default, `changeit`. */
const COMPOUND_STAND_IN = /^(?:my|your|the|some|super|strong|secure|secret|test|example|dummy|default|sample)+[_-]?(?:secret|pass(?:word|wd)?|pwd)$|^changeit$/i;
/** `DB_PASSWORD`, `API_TOKEN`: the name of a variable written where its value would go. */
const VARIABLE_NAME = /^[A-Z][A-Z_]*$/;

/** A whole value that is a template variable, a mask, a bracketed name, or a word for "your password here". */
export function isPlaceholder(value: string): boolean {
  return STAND_IN.test(value) || VARIABLE_NAME.test(value) || COMPOUND_STAND_IN.test(value);
}

/**
 * Words and patterns an author puts in a made-up credential so that nobody mistakes it for a real
 * one: `EXAMPLE`, `dummy`, `fake`, `insert_key_here`, runs of `x` or of one character, and the
 * counting sequences people type when asked for something random (`a1b2c3d4`, `123456789`, a number that is only `1234567` and more digits, `abcdef`), and a
 * short unit typed over and over (`deaddeaddeaddead`, `12e4-12e4-12e4-12e4`).
 * A generated token holds none of these by chance (six given characters in a row is ~1 in 10⁹ per place).
 */
const MADE_UP =
  /example|dummy|fake|placeholder|sample|changeme|not[_-]?a[_-]?real|redacted|insert|replace[_-]?(?:me|with)|(?:^|[^a-z])your|x{4}|(.)\1{5}|a1b2c3|0123456|123456789|^\d*1234567\d*$|abcdef(?:gh|01)|(?:qwerty|asdfgh)|(\w{2,4})(?:[-_]?\2){3}/i;

/** A publishable or public key (`pk_live_…`, `FLWPUBK-…`, Lob's `test_pub_…`, Mailgun's `pubkey-…`): shown to browsers, not a secret. */
const PUBLIC_KEY = /^(?:pk_(?:test|live)_|pubkey-|FLWPUBK|(?:test|live)_pub_)/i;

export function isPublicKey(value: string): boolean {
  return PUBLIC_KEY.test(value);
}

export function looksMadeUp(value: string): boolean {
  return MADE_UP.test(value);
}

/**
 * Template and environment references: the value is somewhere else (`${PASS}`, `$PASS`, `$(cat f)`,
 * `{{ x }}`, `%(x)s`, `%PASS%`, `#{x}`, `<%= x %>`, YAML's `*alias` and `!Ref x`, a SQL or connection-string parameter `@password` — letters only: `@dmin2024` is a password).
 */
const REFERENCE = /^\$+[\w{(]|\$\{|\$\(|\{\{|\}\}|%\(\w+\)[sd]|^%\w+%$|#\{|<%|%>|^[{<]|^@\{|^[&*]\w+$|^!\w+|^\[\[|\]\]$|^@[A-Za-z_]+$/;

export function isReference(value: string): boolean {
  return REFERENCE.test(value);
}

/** Names whose values describe a secret rather than hold it: its hash, length, file, URL, name, policy. */
export const DESCRIBES_A_SECRET = /(?:hash|digest|salt|len(?:gth)?|min|max|size|file|path|url|uri|endpoint|name|id|env|var|field|header|type|policy|prompt|label|regex|pattern|hint|placeholder|ttl|expiry|expires|age|rotation|count)$/i;

/**
 * A PEM private key whose body is not key material: `...`, `xxx`, a sentence, or too short for any
 * key (the smallest, an Ed25519 PKCS#8 key, is 64 base64 characters). `block` runs from the header
 * to the footer; without a footer (a key cut by a stream) the body is not judged.
 */
export function isPlaceholderPem(block: string, linePrefix = 0): boolean {
  const header = block.indexOf('-----', 5);
  const footer = block.indexOf('-----END', header + 5);
  if (header === -1 || footer === -1) return false;
  let inner = block.slice(header + 5, footer);
  // A key printed by a logger: every line of the block starts with the same width of timestamp and level.
  if (linePrefix > 0) inner = inner.split('\n').map((line, i) => (i === 0 ? line : line.slice(linePrefix))).join('\n');
  const body = inner
    .replace(/\\[nr]/g, '\n')
    .replace(/^[\w-]+:.*$/gm, '') // Proc-Type, DEK-Info
    .replace(/["'+,\s]+/g, ''); // and the quotes and `+` of a key written as a string concatenation
  // (Not looksMadeUp: DER in base64 has long runs of `A`, and a long body holds any short word by chance.)
  return body.length < 60 || /[^A-Za-z0-9+/=]/.test(body);
}
