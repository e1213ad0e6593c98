import { isDocumentedExample } from './documented.js';
import { isLiteralPassword } from './password-literal.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';

/**
 * Passwords in the records that pair them with a login, where the format itself says which field
 * is the password: `.netrc` lines, credential constructors (`new NetworkCredential("u", "p")`),
 * connection strings (`Server=…;User ID=…;Password=…;`, libpq's `host=… password=…`), URL query
 * parameters (`jdbc:mysql://h/db?user=u&password=p`), SQL (`IDENTIFIED BY 'p'`) and Oracle's
 * `sqlplus user/password@db`. Weak passwords count: the record says what the value is.
 */

/** A group's offsets in the match, found from the end of the match (the group is its last). */
function tail(m: RegExpExecArray, value: string, after = 0): Span {
  const end = m.index + m[0].length - after;
  return { start: end - value.length, end };
}

/** A string literal's contents, or null for anything else (a variable, a call). */
function literal(arg: string): string | null {
  const m = /^\s*(?:@|[uUrRbB]?)(["'])([^"'\n]*)\1\s*$/.exec(arg);
  return m ? m[2]! : null;
}

/** Top-level comma-separated arguments, commas inside quotes kept. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let quote = '';
  let at = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ',') {
      out.push(args.slice(at, i));
      at = i + 1;
    }
  }
  out.push(args.slice(at));
  return out;
}

/** Keys that make a `;`- or space-separated line a connection string (ADO.NET, ODBC, JDBC properties, libpq). */
const CONNECTION_KEYS = /(?:^|[;\s"'])(?:server|data source|host|hostaddr|address|addr|user id|userid|uid|user|username|database|initial catalog|dbname|port|dsn|driver)[ \t]*=/i;

/** The line around `at`, at most 300 characters either side (a minified file is one long line; a search of all of it at every match would be quadratic). */
function lineOf(text: string, at: number): string {
  const window = text.slice(Math.max(0, at - 300), at + 300);
  const local = Math.min(at, 300);
  const a = window.lastIndexOf('\n', local - 1) + 1;
  const b = window.indexOf('\n', local);
  return window.slice(a, b === -1 ? window.length : b);
}

function decodeOrKeep(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

export function credentialRecordDetectors(): Detector[] {
  return [
    // `machine api.example.com login ci password p`: one line or one field per line.
    new RegexDetector(
      'netrc-password',
      'secret',
      'secrets',
      ['machine'],
      /\bmachine[ \t\r\n]+[^\s]{1,253}[ \t\r\n]+login[ \t\r\n]+([^\s]{1,128})[ \t\r\n]+password[ \t\r\n]+([^\s]{1,128})/g,
      (m) => (isLiteralPassword(m[2]!, true, m[1]) ? tail(m, m[2]!) : null),
    ),
    // The password argument of a constructor or call that takes a login and a password, as string literals.
    new RegexDetector(
      'credential-constructor',
      'secret',
      'secrets',
      ['networkcredential', 'usernamepasswordcredential', 'passwordauthentication', 'basicauth', 'digestauth', 'directoryentry', 'pscredential', '.login('],
      /(?:\b(?:NetworkCredential|UsernamePasswordCredentials?|PasswordAuthentication|HTTP(?:Basic|Digest)Auth|HttpBasicAuth|BasicAuth|DirectoryEntry|PSCredential)|\.login)[ \t]*\(([^()]{1,400})\)/g,
      (m) => {
        const args = splitArgs(m[1]!);
        if (args.length < 2 || args.length > 3) return null;
        const password = literal(args[args.length - 1]!);
        const user = literal(args[args.length - 2]!);
        if (password === null || user === null || !isLiteralPassword(password, true, user)) return null;
        const start = m.index + m[0].length - 1 - m[1]!.length + m[1]!.lastIndexOf(password);
        return { start, end: start + password.length };
      },
    ),
    // `…;Password=p;…` or `host=h user=u password=p dbname=d`; the line must hold another connection key.
    new RegexDetector(
      'connection-string-password',
      'secret',
      'secrets',
      ['password', 'pwd'],
      /(?:^|[;"'\s])(?:password|pwd)[ \t]*=[ \t]*([^;"'\s()]{1,128})(?=[;"'\s]|$)/gi,
      (m) => {
        const value = m[1]!;
        if (!CONNECTION_KEYS.test(lineOf(m.input, m.index + 1)) || !isLiteralPassword(value, true)) return null;
        return tail(m, value);
      },
    ),
    // `?user=u&password=p`, also HTML-escaped (`&amp;password=`).
    new RegexDetector(
      'url-query-password',
      'secret',
      'secrets',
      ['pass', 'pwd'],
      /[?&](?:amp;)?(password|passwd|pwd|pass|userpass|user_?password)=([^&\s"'#<>]{1,128})/gi,
      (m) => {
        const value = decodeOrKeep(m[2]!);
        // `pass` is other things too (a ticket, a step): a bare word there is not enough (`?pass=word`).
        if (m[1]!.toLowerCase() === 'pass' && /^[A-Za-z]+$/.test(value)) return null;
        return isLiteralPassword(value, true) ? tail(m, m[2]!) : null;
      },
    ),
    // `CREATE USER u IDENTIFIED BY 'p'`, `ALTER ROLE u WITH PASSWORD 'p'`.
    new RegexDetector(
      'sql-password',
      'secret',
      'secrets',
      ['identified', 'password'],
      /\b(?:identified[ \t]+by|with[ \t]+(?:encrypted[ \t]+)?password|\bpassword)[ \t]+'([^'\s]{1,128})'/gi,
      (m) => (isLiteralPassword(m[1]!, true) ? tail(m, m[1]!, 1) : null),
    ),
    // `sqlplus scott/t1ger@orcl`, `expdp system/p@db`.
    new RegexDetector(
      'oracle-connect-password',
      'secret',
      'secrets',
      ['sqlplus', 'expdp', 'impdp', 'rman', 'sqlldr'],
      /\b(?:sqlplus|expdp|impdp|rman|sqlldr)(?:\.exe)?(?:[ \t]+-\w+)*[ \t]+["']?([\w$#]{1,30})\/([^\s@/"']{1,128})@/gi,
      (m) => (isLiteralPassword(m[2]!, true, m[1]) && !isDocumentedExample(`${m[1]}/${m[2]}`) ? tail(m, m[2]!, 1) : null),
    ),
  ];
}
