import { isLiteralPassword } from './password-literal.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * Passwords code hands to an API rather than assigns to a name: a database account's password in a
 * connect call to a database (`pymysql.connect('localhost', 'root', 'P')`, JDBC's
 * `getConnection("jdbc:…", "root", "P")`), a setter keyed by a password's name
 * (`props.put("password", "P")`, `env.put(Context.SECURITY_CREDENTIALS, "P")`), and PHP's
 * `define('DB_PASSWORD', 'P')`. The literal must read as a password (password-literal.ts), and not
 * as a form's, a message's or a placeholder's word for one (`forgot_password`, `password_here`).
 */

/** A literal: group `q` its quote, the next group its text (no spaces, no escapes). */
const literal = (q: number) => String.raw`(["'])([^"'\\\s]{1,128})` + `\\${q}`;
const spanOf = (m: RegExpExecArray, value: string): Span => {
  const start = m.index + m[0].lastIndexOf(value);
  return { start, end: start + value.length };
};
/** What a connect call's earlier arguments hold when it goes to a database: a local host, a database URL, an address. */
const TO_A_DATABASE = /localhost|jdbc:|\b(?:mysql|mariadb|postgres(?:ql)?|mongodb(?:\+srv)?|redis|mssql|sqlserver|oracle):\/\/|\b\d{1,3}(?:\.\d{1,3}){3}\b|\bhost\s*=/i;
/** Without a name, two literals closing a call are a user and a password only where the user is an account databases ship with. */
const DB_USER = /^(?:root|admin|administrator|sa|postgres|mysql|oracle|system|sys|dbadmin|dba)$/i;
/** A setting keyed by a password's name that is about the password, not it: a form, a message, a route, a hash. */
const ABOUT_THE_PASSWORD = /forgot|reset|show|hide|confirm|change|repeat|verify|label|hint|error|field|input|policy|hash|plain|new|old|current|strength|rule|icon/i;
/** Hashing schemes a password setting names (`options.set("password", "argon2id")`). */
const HASH_SCHEME = /^(?:argon2(?:id|i|d)?|bcrypt|scrypt|pbkdf2[\w-]*|sha-?\d+|md5|plain(?:text)?)$/i;
/** A constant that holds a password, not one that names a field, a message or a label of it (`ENTRY_PASSWORD`). */
const LABEL_CONSTANT = /^(?:ENTRY|FIELD|TABLE|COLUMN|COL|ERR|ERROR|LABEL|TEXT|TXT|MSG|MESSAGE|TITLE|HEADING|LANG|PLACEHOLDER|HINT)_/i;
const mixed = (value: string): boolean => [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(value)).length >= 2;
/** A password literal and not the placeholder or label of one (`password_here`, `Parolă:`, `user_passwords`). */
const literalPassword = (value: string): boolean =>
  isLiteralPassword(value, true) && !/(?:^|[_.-])(?:pass(?:word)?s?|pwd)(?:$|[_.-])/i.test(value) && !/:$/.test(value);

/**
 * Names of a password or another secret, as a variable or an environment variable is named: the
 * secret's word ends the name, or only `_KEY`, `_VALUE` or a number follow it (`DB_PASSWORD`,
 * `JWT_SECRET`, `SECRET_KEY`, `apiKey`) — `secretId`, `tokenizerPath`, `PASSWORD_BCRYPT_ROUNDS` name something else.
 */
const SECRET_WORD = String.raw`(?:secret|token|passw(?:or)?d|passphrase|pwd|api[_-]?key|apikey|private[_-]?key|access[_-]?key)(?:[_-]?(?:key|value)|[_-]?\d{1,3})?(?![A-Za-z0-9_-])`;
const PASSWORD_WORD = /passw(?:or)?d|passphrase|pwd/i;
/**
 * A fallback is the secret whenever the environment lacks it: a password's name takes any password
 * literal; another secret's name (`token`, `api_key`) one that looks generated, as the name alone
 * (`SECRET_KEY = env('SECRET_KEY', 'dev')`) says less about the value.
 */
function fallbackSecret(name: string, value: string): boolean {
  if (ABOUT_THE_PASSWORD.test(name) || !mixed(value) || !literalPassword(value) || HASH_SCHEME.test(value)) return false;
  return PASSWORD_WORD.test(name) || (value.length >= 12 && /\d/.test(value) && /[A-Za-z]/.test(value) && shannonEntropy(value) > 3.5);
}

export function codePasswordDetectors(): Detector[] {
  return [
    new RegexDetector(
      'secret-fallback-literal',
      'secret',
      'secrets',
      ['secret', 'token', 'pass', 'pwd', 'key'],
      // The literal a secret falls back to: `process.env.API_TOKEN || 'x'`, `env.PASSWORD ?? 'x'`, `os.environ.get("TOKEN") or "x"`,
      // `secret = opts.secret || 'x'`, Ruby's `ENV['DB_PASSWORD'] || 'x'` and `ENV.fetch('DB_PASSWORD') { 'x' }`, Kotlin's and PHP's
      // `?:`, Rust's `.unwrap_or("x")`, and a shell default, `${DB_PASSWORD:-x}` (quoted or not).
      new RegExp(String.raw`\$\{\w{0,40}?(${SECRET_WORD}):?[-=]["']?([^}\s"'$]{6,128})["']?\}|(${SECRET_WORD})(?:[ \t]*=[ \t]*[\w.$]{1,60})?["'\]]{0,2}\)?[ \t]*(?:\|\||\?\?|\?:|\bor\b|\.unwrap_or\(|\{)[ \t]*${literal(4)}`, 'gi'),
      (m) => {
        const [name, value] = m[1] !== undefined ? [m[1], m[2]!] : [m[3]!, m[5]!];
        return fallbackSecret(name, value) ? spanOf(m, value) : null;
      },
      // Every match holds one of these: a text without any is not searched (the secret words alone are in most code).
      { test: (text) => text.includes('||') || text.includes('??') || text.includes('?:') || text.includes('${') || text.includes('unwrap_or(') || text.includes('{') || / or /i.test(text) },
    ),
    new RegexDetector(
      'secret-lookup-default',
      'secret',
      'secrets',
      ['secret', 'token', 'pass', 'pwd', 'key'],
      // A lookup's default: `os.getenv("SECRET_KEY", "x")`, `env("SECRET_KEY", default="x")`, `ENV.fetch('API_TOKEN', 'x')`, `config.get('db.password', 'x')`.
      // Go's `cmp.Or(os.Getenv("DB_PASSWORD"), "x")` too: the lookup closed before its default.
      new RegExp(String.raw`\b(cmp\.Or[ \t]*\([ \t]*(?:os\.)?)?(?:getenv|Getenv|env|get|fetch|getProperty|getOrDefault|getString|GetEnvironmentVariable|config)[ \t]*\([ \t]*(["'])([\w.-]{0,40}?${SECRET_WORD})\2[ \t]*(?:(?<=\bcmp\.Or[^\n]{0,80})\))?[ \t]*,[ \t]*(?:default[ \t]*=[ \t]*)?${literal(4)}[ \t]*\)`, 'gi'),
      (m) => (fallbackSecret(m[3]!, m[5]!) ? spanOf(m, m[5]!) : null),
    ),
    new RegexDetector(
      'secret-conditional-literal',
      'secret',
      'secrets',
      ['secret', 'token', 'pass', 'pwd', 'key'],
      // Either branch of a condition assigned to a secret's name: `const password = isDev ? 'x' : 'y'`.
      new RegExp(String.raw`(${SECRET_WORD})[ \t]*=[ \t]*[^?\n;="'=]{1,60}\?[ \t]*${literal(2)}[ \t]*:[ \t]*${literal(4)}`, 'gi'),
      (m) => {
        const value = [m[3]!, m[5]!].find((v) => fallbackSecret(m[1]!, v));
        return value === undefined ? null : spanOf(m, value);
      },
    ),
    new RegexDetector(
      'password-connect-argument',
      'secret',
      'secrets',
      ['connect', 'connection', 'login'],
      // A database's user then its password among the last literals of a connect call to a database:
      // `pymysql.connect('localhost', 'root', 'P')`, `mysql_connect(…)`, `MySQLdb.connect(host, 'root', 'P', 'shop')`.
      new RegExp(
        String.raw`(?:\b|_)(?:connect|getConnection|Connection|createConnection|login)[ \t]*\(([^()\n]{1,200}?),[ \t]*(["'])([\w.@-]{1,64})\2[ \t]*,[ \t]*${literal(4)}[ \t]*(?:,[^()\n]{1,60})?\)`,
        'g',
      ),
      (m) => (TO_A_DATABASE.test(m[1]!) && DB_USER.test(m[3]!) && literalPassword(m[5]!) ? spanOf(m, m[5]!) : null),
    ),
    new RegexDetector(
      'password-setter-call',
      'secret',
      'secrets',
      ['pass', 'pwd', 'credentials'],
      // `put("password", "x")`, `setProperty("db.password", "x")`, `os.Setenv("DB_PASSWORD", "x")`, `env.put(Context.SECURITY_CREDENTIALS, "x")`.
      new RegExp(
        String.raw`\b(?:put|setProperty|setdefault|setItem|set|Setenv|setenv|putenv)[ \t]*\([ \t]*(?:(["'])([\w.-]{0,40}?(?:password|passwd|pwd|passphrase))\1|(?:[\w$]+\.){0,3}([A-Z_]{0,40}(?:PASSWORD|PASSWD|PWD|CREDENTIALS)))[ \t]*,[ \t]*${literal(4)}[ \t]*\)`,
        'gi',
      ),
      (m) => {
        const key = m[2] ?? m[3]!;
        const value = m[5]!;
        if (ABOUT_THE_PASSWORD.test(key) || LABEL_CONSTANT.test(key) || HASH_SCHEME.test(value) || !mixed(value) || !literalPassword(value)) return null;
        return spanOf(m, value);
      },
    ),
    new RegexDetector(
      'password-define',
      'secret',
      'secrets',
      ['define'],
      // PHP's constants (`define('DB_PASSWORD', 'x');`, WordPress' wp-config.php): a name that ends in the password's word.
      new RegExp(String.raw`\bdefine[ \t]*\([ \t]*(["'])((?:\w{0,40}_)?(?:PASSWORD|PASSWD|PASS|PWD))\1[ \t]*,[ \t]*${literal(3)}[ \t]*(?:,[ \t]*\w+[ \t]*)?\)`, 'gi'),
      (m) => (!LABEL_CONSTANT.test(m[2]!) && literalPassword(m[4]!) ? spanOf(m, m[4]!) : null),
    ),
  ];
}
