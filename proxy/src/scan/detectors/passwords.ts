import { cliPasswordDetectors } from './cli-passwords.js';
import { codePasswordDetectors } from './code-passwords.js';
import { credentialRecordDetectors } from './credential-records.js';
import { isDocumentedExample } from './documented.js';
import { isLiteralPassword } from './password-literal.js';
import { DESCRIBES_A_SECRET, isPlaceholder, isPublicKey, looksMadeUp } from './placeholders.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * Secrets assigned to a secret-ish name, in the shapes gitleaks' generic rule leaves out: values
 * with punctuation (its value class is `[\w.=-]`, so Django's `SECRET_KEY = 'i%cJ…'` is invisible
 * to it) and a password written in a sentence, with no `=` at all, both of which must look
 * generated; and any literal assigned to a password's name (`password: hunter2`), to a secret's
 * name (`jwt_secret: "dev#product"`), or quoted in a sentence that says it is the password: the
 * name says what the value is, so only stand-ins (placeholders.ts, password-literal.ts) are left out.
 */

/** What gitleaks' generic rule can see; a value made only of these is left to it. */
const GENERIC_VALUE = /^[\w.=+/-]+$/;
/** Not values: template or environment references, paths, URLs and URNs (`urn:…`, `vault:…`), function calls, markup, HTML entities. */
const NOT_A_LITERAL = /^[$%{<~/]|^[a-z][a-z0-9+.-]{1,15}:|:\/\/|^[A-Za-z_][\w.]*\(|[<>]|&#?\w+;/;
/** An identifier that merely names the secret (`csrf_token`, `next_page_token`, `public_key`). */
const NOT_SECRET_NAME = /(?:csrf|xsrf|page|cursor|continuation|sync|public|publishable)[_.-]?$|pub(?:lic)?[_.-]?key/i;

/** Names of a password in several languages, for sentences that give one (`das Passwort ist …`). */
const PASSWORD_WORD = String.raw`password|passphrase|passwd|passcode|passwort|kennwort|mot de passe|contrase(?:ñ|n)a|senha|wachtwoord|lösenord|salasana|adgangskode|parola`;
const PASSWORD_KEYWORDS = ['password', 'passphrase', 'passwd', 'passcode', 'passwort', 'kennwort', 'mot de passe', 'contrase', 'senha', 'wachtwoord', 'senord', 'salasana', 'adgangskode', 'parola'];
/** The verb that introduces it: "is", "ist", "est", "es", "é", "är", "jest" (not Finnish "on", which is an English word too). */
const COPULA = String.raw`is|was|ist|lautet|est|était|es|é|è|är|er|jest`;

/** A name ending in a password word; `pass`/`pwd` only as a word of the name (`REACT_APP_PASS`, `userpass`), not `bypass`. */
const PASSWORD_NAME = /(passw(?:or)?d|passphrase|pwd|pass)(?![\w])/;
/** As a key's name may number it (`TEST_PASSWORD_3`, `db-password-2`). */
const NUMBERED_PASSWORD_NAME = String.raw`(passw(?:or)?d|passphrase|pwd|pass)(?:[_-]?\d{1,3})?(?![\w])`;
/** A password's name, numbered only when it is no mere `pass` (`password2`, `pwd_1`; a compiler's `pass3` is a pass). */
const CHECKED_PASSWORD_NAME = String.raw`((?:passw(?:or)?d|passphrase|pwd)(?:[_-]?\d{1,3})?|pass)(?![\w])`;
const PASS_AFTER = /(?:^|[^A-Za-z]|user|db|ssh|root|admin|mail|smtp|ftp|ldap|proxy|store|vnc|rpc|web|api|app|auth)$/i;
/** Names of something about a password, not the password (`password_hash` ends elsewhere; these are prefixes). */
const ABOUT_A_PASSWORD = /(?:hash|digest|salt|len|min|max|policy|regex|pattern|label|hint|placeholder|field|input|prompt|reset|forgot|expir|show|hide|toggle|strength|type|mask)/i;
/** Secret names other than a password's, ending the identifier. */
const SECRET_NAME = /(secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth[_-]?key|license[_-]?key|signing[_-]?key|encryption[_-]?key|secret[_-]?key)(?![\w])/;

/** A value in one of the quotings code and config use; groups: escaped-quoted, double, single, bare (an `&` in it, unless a query's next parameter follows: `VeryStrong857!@$^&*#`). */
const VALUE = String.raw`(?:\\"([^"\\\s]{1,128})\\"|@?"([^"\s]{1,128})"|'([^'\s]{1,128})'|((?:[^\s"'\x60,;&<>()\[\]{}]|&(?![\w.-]+=)){1,128}))`;
/**
 * After a quoted value: the end of the statement, not more expression (`"a".format(…)`, `'x' + y`); a block's colon
 * (`if password == "x":`); or the literal turned into bytes or chars (`"x".toCharArray()`), which is still the literal.
 */
const ENDS_QUOTED = /^(?:$|[\s,;)\]}>/\\|]|:[ \t]*(?:$|\r|\n|#)|\.(?:toCharArray|getBytes|toByteArray|encode|as_bytes|to_string|to_owned|into)\(\))/;
/** After a bare value: the end of the line, maybe behind `;`, `,` or a comment (YAML, INI, env, properties). */
const ENDS_BARE = /^[;,]?[ \t]*(?:$|\r|\n|\\[nr]|#|\/\/)/;

interface Assigned {
  value: string;
  quoted: boolean;
  span: Span;
}

/** The value of a match whose last groups are VALUE's four, if it ends as a value does. */
function assignedValue(m: RegExpExecArray, first: number): Assigned | null {
  const g = [m[first], m[first + 1], m[first + 2], m[first + 3]];
  const i = g.findIndex((v) => v !== undefined);
  if (i === -1) return null;
  const value = g[i]!;
  const quoteLength = i === 0 ? 2 : i === 3 ? 0 : 1;
  const end = m.index + m[0].length;
  const start = end - quoteLength - value.length;
  const rest = m.input.slice(end, end + 16);
  // A bare value may also end the string that holds it, after a `;`, `&` or `?` (`"jdbc:db2://h/db:user=u;password=x");`).
  const endsString = i === 3 && /[;&?]/.test(m.input[m.index - 1] ?? '') && /^["'][ \t]*(?:[),;]|$|\r|\n)/.test(rest);
  if (!(i === 3 ? ENDS_BARE : ENDS_QUOTED).test(rest) && !endsString) return null;
  return { value, quoted: i !== 3, span: { start, end: start + value.length } };
}

/** The name a keyword ends, if it is a key (`x.password`, `$mail->Password`, `REACT_APP_PASS`) rather than a word in a sentence. */
function keyName(text: string, at: number, keyword: string): string | null {
  const from = nameStart(text, at);
  const prefix = text.slice(from, at);
  if (/^(?:pass|pwd)$/i.test(keyword) && !PASS_AFTER.test(prefix)) return null;
  return prefix;
}

/** Lower-case words joined by `-`, `_` or `.`, most of them letters only: a resource's name, not a secret. */
function looksLikeName(value: string): boolean {
  if (!/^[a-z0-9]+(?:[-_.][a-z0-9]+)*$/.test(value)) return false;
  const parts = value.split(/[-_.]/);
  // A long run of letters and digits is what a vendor's prefix (`packagist_ort_…`) is followed by, not a word of a name.
  if (parts.some((p) => p.length >= 16 && /\d/.test(p) && /[a-z]/.test(p))) return false;
  return parts.length > 1 ? parts.filter((p) => /^[a-z]+$/.test(p)).length * 2 >= parts.length : /^[a-z]+$/.test(value);
}

/** A camelCase value made of the key's own words (`IAM_ROLE_STATEMENTS_TOKEN = 'iamRoleStatements'`): the key's name, not its secret. */
function namesItsKey(value: string, key: string): boolean {
  if (!/^[a-z]+(?:[A-Z][a-z]+)+$/.test(value)) return false;
  const keyWords = new Set(key.toLowerCase().split(/[^a-z]+|(?<=[a-z])(?=[A-Z])/).filter(Boolean));
  for (const w of key.split(/(?<=[a-z])(?=[A-Z])|[^A-Za-z]+/)) if (w) keyWords.add(w.toLowerCase());
  return value.split(/(?=[A-Z])/).every((w) => keyWords.has(w.toLowerCase()));
}

/** The key's own name as its value, in another case or spelling (`TRUSTSTORE_PASSWORD = "trustStorePassword"`, `"connection.password"`). */
function spellsItsKey(value: string, key: string): boolean {
  if (/\d/.test(value) || !/[a-z][A-Z]|[._-]/.test(value)) return false;
  const letters = (s: string) => s.toLowerCase().replace(/[^a-z]/g, '');
  // Longer than the password's own word: `pass.word` is a (weak) password, `trustStorePassword` a name.
  return letters(value).length > 8 && letters(key).endsWith(letters(value));
}

function classes(value: string): number {
  return (/[a-z]/.test(value) ? 1 : 0) + (/[A-Z]/.test(value) ? 1 : 0) + (/\d/.test(value) ? 1 : 0) + (/[^A-Za-z0-9_]/.test(value) ? 1 : 0);
}

/** Generated-looking: a digit, three character classes, high entropy, and not a placeholder or reference. */
function looksGenerated(value: string, minEntropy: number): boolean {
  if (!(/\d/.test(value) && classes(value) >= 3 && shannonEntropy(value) > minEntropy && !isPlaceholder(value) && !NOT_A_LITERAL.test(value) && !isDocumentedExample(value))) return false;
  return value.length > 128 || isLiteralPassword(value, true); // (and not a validation rule, a type, a translation)
}

/** At the start of a line, maybe indented (an env block in a heredoc, a YAML `run:`, a README) or behind `export`. */
const atLineStart = (text: string, at: number) => /(?:^|\n)[ \t]{0,16}(?:export[ \t]+)?$/.test(text.slice(Math.max(0, at - 24), at));
const atLineEnd = (text: string, at: number) => at === text.length || text[at] === '\n' || text[at] === '\r';

/** The identifier a keyword match sits in, extended back over name characters. */
function nameStart(text: string, at: number): number {
  let i = at;
  while (i > 0 && /[\w.-]/.test(text[i - 1]!)) i--;
  return i;
}

/** The value ends the match (group `g`); `value` may be it with trailing punctuation cut. */
function valueSpan(m: RegExpExecArray, g: number, value: string): Span {
  const start = m.index + m[0].length - m[g]!.length;
  return { start, end: start + value.length };
}

/** What a password is compared with that is no password: a type's name, or the mode that says where the password comes from. */
const COMPARED_MODE = /^(?:prompt|stdin|keyring|keychain|vault|interactive|env|environment|file|none|ask|auto|default|required|optional|function|string|bigint|number|object|undefined|boolean|symbol)$/i;

export function passwordDetectors(): Detector[] {
  return [
    new RegexDetector(
      'password-assignment',
      'secret',
      'secrets',
      ['pass', 'pwd'],
      // `password = x`, `"password": "x"`, `:password => 'x'`, `password="x"` in markup, `password 'x'` in a build DSL,
      // and a check against a literal (`if password == "root"`): the code holds the password it accepts.
      new RegExp(String.raw`${CHECKED_PASSWORD_NAME}(["']?\]?)([ \t]*(?:=>|:=|[=!]==?(?=[ \t]*["'])|=|:)[ \t]*|[ \t]+(?=\\?["']))(?:!!binary[ \t]+|[bBfFuU]{1,2}(?=["']))?${VALUE}`, 'gi'),
      (m) => {
        const text = m.input;
        const prefix = keyName(text, m.index, m[1]!);
        if (prefix === null || ABOUT_A_PASSWORD.test(prefix)) return null;
        // Without `=` or `:`, only a key at the start of a line (`password 'x'` in Gradle), not a sentence.
        if (m[3]!.trim() === '' && !/(?:^|\n)[ \t]*$/.test(text.slice(Math.max(0, m.index - prefix.length - 40), m.index - prefix.length))) return null;
        const v = assignedValue(m, 4);
        if (!v || !isLiteralPassword(v.value, v.quoted) || spellsItsKey(v.value, prefix + m[1]!)) return null;
        // A Python f-string with a field in it is built at run time (`f"prefix_{value}"`).
        if (v.value.includes('{') && /(?:^|[^\w])[rR]?[fF][rR]?["']$/.test(text.slice(v.span.start - 4, v.span.start))) return null;
        // A comparison: with a type (`typeof this.password === 'function'`) or a mode's name (`if password == "prompt"`), not a password.
        if (/[=!]=/.test(m[3]!) && (COMPARED_MODE.test(v.value) || /\btypeof\s+$/.test(text.slice(Math.max(0, m.index - prefix.length - 12), m.index - prefix.length)))) return null;
        // A key that is only `pass`, `pwd` or `passwd` is other things too (`pass: deploy`, nsswitch's `passwd: files`): a bare word is not enough.
        if (prefix === '' && !v.quoted && /^(?:pass|pwd|passwd)$/i.test(m[1]!) && classes(v.value) < 2) return null;
        return v.span;
      },
    ),
    new RegexDetector(
      'password-literal-check',
      'secret',
      'secrets',
      ['pass', 'pwd'],
      // The literal a password is checked against, written first or through a method: `"x".equals(password)`,
      // `password.equals("x")`, `if "x" == password` (the code holds the password it accepts).
      new RegExp(
        [
          String.raw`(["'])([^"'\\\s]{1,128})\1[ \t]*(?:\.[ \t]*(?:equals(?:IgnoreCase)?|__eq__)[ \t]*\([ \t]*|[=!]==?[ \t]*)(?:[\w$]+\.){0,3}${CHECKED_PASSWORD_NAME}(?![\w(])`,
          String.raw`(?<![\w.])(?:[\w$]+\.){0,3}${CHECKED_PASSWORD_NAME}[ \t]*\.[ \t]*(?:equals(?:IgnoreCase)?|__eq__)[ \t]*\([ \t]*(["'])([^"'\\\s]{1,128})\5[ \t]*\)`,
        ].join('|'),
        'gi',
      ),
      (m) => {
        const value = m[2] ?? m[6]!;
        if (!isLiteralPassword(value, true) || COMPARED_MODE.test(value)) return null;
        const start = m[2] !== undefined ? m.index + 1 : m.index + m[0].lastIndexOf(value);
        return { start, end: start + value.length };
      },
    ),
    new RegexDetector(
      'password-key-value-pair',
      'secret',
      'secrets',
      ['pass', 'pwd'],
      // `<add key="SmtpPassword" value="x"/>`, `- key: db.password\n  value: x`, `{"name": "password", "value": "x"}`.
      new RegExp(String.raw`\b(?:key|name)["']?[ \t]*[:=][ \t]*["']?[\w.-]{0,40}?${NUMBERED_PASSWORD_NAME}["']?(?:[\s,]|(?:\/\/|#)[^\n]{0,80}\n){1,40}?[ \t]*value["']?[ \t]*[:=][ \t]*${VALUE}`, 'gi'),
      (m) => {
        const v = assignedValue(m, 2);
        return v && isLiteralPassword(v.value, v.quoted) ? v.span : null;
      },
    ),
    new RegexDetector(
      'secret-assignment-literal',
      'secret',
      'secrets',
      ['secret', 'token', 'key'],
      // `jwt_secret: "dev#product"`, `ENV DRONE_TOKEN x`, `apikey: x`, `API token - 'x'` in notes and lists: a weaker bar than gitleaks' generic rule, for a value named a secret.
      new RegExp(String.raw`${SECRET_NAME.source}(["']?\]?)([ \t]*(?:=>|:=|=|:)[ \t]*|[ \t]+-[ \t]+(?=\\?["'])|[ \t]+(?=[^\s=:]))(?:!!binary[ \t]+)?${VALUE}`, 'gi'),
      (m) => {
        const text = m.input;
        const from = nameStart(text, m.index);
        const prefix = text.slice(from, m.index);
        if (NOT_SECRET_NAME.test(prefix) || ABOUT_A_PASSWORD.test(prefix) || DESCRIBES_A_SECRET.test(prefix)) return null;
        // Without `=` or `:`: a Dockerfile's `ENV NAME value`, nothing else.
        if (m[3]!.trim() === '' && !/(?:^|\n)[ \t]*ENV[ \t]+$/.test(text.slice(Math.max(0, from - 12), from))) return null;
        const v = assignedValue(m, 4);
        if (!v || v.value.length < 8 || !isLiteralPassword(v.value, v.quoted)) return null;
        // A name rather than a value: `my-app-secret`, `not_a_token`, `db-creds-v2`, `kv/data/app`.
        if (/secret|token|key|password/i.test(v.value) || looksLikeName(v.value) || namesItsKey(v.value, prefix) || isPublicKey(v.value) || (v.value.includes('/') && v.value.length < 20)) return null;
        return shannonEntropy(v.value) > 2.5 && classes(v.value) >= 2 ? v.span : null;
      },
    ),
    new RegexDetector(
      'secret-assignment-long',
      'secret',
      'secrets',
      ['secret', 'token', 'key'],
      // A value longer than VALUE takes (JWTs, session and refresh tokens, signed blobs): quoted, any characters but quotes and
      // spaces; or bare, ending its line (`voicegain_token = eyJ…` in an env file).
      new RegExp(String.raw`${SECRET_NAME.source}["']?\]?(?:[ \t]*(?:=>|:=|=|:)|[ \t]+-)[ \t]*(?:(["'\x60])([^\s"'\x60]{129,4096})\2|([^\s"'\x60,;&?<>(){}\[\]]{129,4096}))`, 'gi'),
      (m) => {
        const prefix = m.input.slice(nameStart(m.input, m.index), m.index);
        if (NOT_SECRET_NAME.test(prefix) || ABOUT_A_PASSWORD.test(prefix) || DESCRIBES_A_SECRET.test(prefix)) return null;
        const value = m[3] ?? m[4]!;
        // A bare value ends its line (the greedy run stops at a delimiter; checked here, not by a look-ahead that would
        // backtrack through 4,096 characters at every secret name of a long line that goes on).
        if (m[4] !== undefined && !/^[ \t]*(?:$|\r|\n)/.test(m.input.slice(m.index + m[0].length, m.index + m[0].length + 64))) return null;
        if (!/[a-z]/.test(value) || !/[A-Z]/.test(value) || !/\d/.test(value) || shannonEntropy(value) <= 4) return null;
        if (isPlaceholder(value) || NOT_A_LITERAL.test(value) || looksMadeUp(value) || isDocumentedExample(value)) return null;
        const start = m.index + m[0].length - (m[3] === undefined ? 0 : 1) - value.length; // before the closing quote, if any
        return { start, end: start + value.length };
      },
    ),
    new RegexDetector(
      'secret-xml-element',
      'secret',
      'secrets',
      ['secret>', 'password>', 'passwd>', 'token>', 'key>'],
      // `<password>…</password>`, `<apiToken>…</apiToken>`, Jenkins' `<secret>{AQAAABAAAA…}</secret>`: the element's name says what it holds.
      /<([\w:-]{0,40}?(?:secret|passw(?:or)?d|token|api[_-]?key|private[_-]?key|access[_-]?key))>([^<\n]{8,4096})<\/\1>/gi,
      (m) => {
        if (NOT_SECRET_NAME.test(m[1]!) || ABOUT_A_PASSWORD.test(m[1]!.replace(/^.*:/, ''))) return null;
        const inner = m[2]!;
        // The generated run inside it (a value may be wrapped as `{…}` or carry a label before a space).
        const run = (inner.match(/[^\s{}]{8,}/g) ?? []).find((r) => looksGenerated(r, 3.3) || (r.length >= 16 && /\d/.test(r) && /[a-z]/i.test(r) && shannonEntropy(r) > 3.5 && !isPlaceholder(r) && !looksMadeUp(r)));
        if (!run || NOT_A_LITERAL.test(run)) return null;
        const start = m.index + m[0].indexOf('>') + 1 + inner.indexOf(run);
        return { start, end: start + run.length };
      },
    ),
    new RegexDetector(
      'password-quoted-in-prose',
      'secret',
      'secrets',
      PASSWORD_KEYWORDS,
      // "the password is 'Secret123'", "the default password for the user "x" is "y"", "das Passwort ist „…“".
      new RegExp(String.raw`\b(?:${PASSWORD_WORD})\b[^\n]{0,80}?[ \t](?:${COPULA})[ \t]+(?:now[ \t]+|still[ \t]+|set[ \t]+to[ \t]+)?\\?["'“‘«„][ \u00a0\u202f]?([^"'”’»“\s\\]{4,64})[ \u00a0\u202f]?\\?["'”’»“]`, 'gi'),
      (m) => (isLiteralPassword(m[1]!, true) ? { start: m.index + m[0].lastIndexOf(m[1]!), end: m.index + m[0].lastIndexOf(m[1]!) + m[1]!.length } : null),
    ),
    new RegexDetector(
      'secret-assignment-punctuated',
      'secret',
      'secrets',
      ['secret', 'passw', 'passphrase', 'pwd', 'token', 'api_key', 'api-key', 'apikey', 'private_key', 'access_key', 'signing_key', 'encryption_key', 'auth_key'],
      /(secret|passw(?:or)?d|passphrase|pwd|token|api[_-]?key|(?:private|access|signing|encryption|auth)[_-]?key)([\w.-]{0,20})(['"]?\]?[ \t]{0,3}(?:=>|:=|=|:)[ \t]{0,3})(['"]?)([^\s'"`]{10,200})/gi,
      (m) => {
        const [, keyword, suffix, separator, quote, value] = m as unknown as [string, string, string, string, string, string];
        const text = m.input;
        const from = nameStart(text, m.index);
        if (quote) {
          if (text[m.index + m[0].length] !== quote) return null; // a quoted value with spaces: a sentence, not a key
          // Unquoted punctuation is code (`token = this.next();`), except a whole `NAME=value` line of an env file.
        } else if (separator !== '=' || !atLineStart(text, from) || !atLineEnd(text, m.index + m[0].length)) return null;
        const prefix = text.slice(from, m.index);
        if (DESCRIBES_A_SECRET.test(prefix + keyword + suffix) || NOT_SECRET_NAME.test(prefix)) return null;
        if (GENERIC_VALUE.test(value) || !looksGenerated(value, 3.5)) return null;
        return valueSpan(m, 5, value);
      },
    ),
    new RegexDetector(
      'password-in-prose',
      'secret',
      'secrets',
      PASSWORD_KEYWORDS,
      // "… user acme password Xy7#… (rotate it)", "the passphrase is Xy7#…", "LDAP password ---- Xy7#…": no `=`, so no other rule looks.
      new RegExp(String.raw`\b(?:${PASSWORD_WORD})[ \t]+(?:(${COPULA}|-{2,}|\.{2,}|:)[ \t]+)?["'“‘]?([^\s"'\x60”’]{8,64})`, 'gi'),
      (m) => {
        const value = m[2]!.replace(/[.,;:!?)\]}]+$/, '');
        if (value.length >= 10 && looksGenerated(value, 3.3)) return valueSpan(m, 2, value);
        // "the password is Summer2024!": a sentence that says so may give a shorter, human-made one, if it mixes
        // letters, digits and another class as passwords must (a word, a number or `8 characters` does not).
        if (m[1] && value.length >= 8 && /\d/.test(value) && /[A-Za-z]/.test(value) && classes(value) >= 3 && shannonEntropy(value) > 2.8 && !isPlaceholder(value) && !NOT_A_LITERAL.test(value) && isLiteralPassword(value, false)) {
          return valueSpan(m, 2, value);
        }
        return null;
      },
    ),
    ...credentialRecordDetectors(),
    ...cliPasswordDetectors(),
    ...codePasswordDetectors(),
  ];
}
