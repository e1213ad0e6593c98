import { isDocumentedExample } from './documented.js';
import { isPlaceholder, isReference, looksMadeUp } from './placeholders.js';

/**
 * Whether a value written where a password goes is a password, however weak (`hunter2`,
 * `super$ecret`): a password assignment, a connection string or a command line says what the value
 * is, so it need not look random. What is left out is everything that stands in for one.
 */

/** Not values: paths, URLs and URNs (`vault:…`), function calls, markup, HTML entities, a run of punctuation. */
const NOT_A_LITERAL = /^[~/\\]|^\.{0,2}\/|^[a-z][a-z0-9+.-]{1,15}:|:\/\/|^[A-Za-z_][\w.]*\(|[<>]|&#?\w+;|^[\W_]+$/;
/** An account's own name used as its password: the shipped default of a service (`postgres:postgres`, `admin`). */
const SERVICE_DEFAULT = /^(?:admin(?:istrator)?|root|postgres|mysql|mariadb|mongo(?:db)?|redis|rabbitmq|sa|demo|default|login)$/i;
/** Words that describe a password instead of being one (`the password is "incorrect"`). */
const DESCRIPTION = /^(?:incorrect|wrong|invalid|correct|expired|weak|strong|empty|blank|unset|set|changed|encrypted|ok|valid|case[-_ ]?sensitive|same|different)$/i;
/** Type annotations and schema words where a value would be (`password: String!`, `password: str`, `'password' => 'required|min:8'`). */
const TYPE_OR_RULE = /^(?::\w+|(?:string|str|number|int|integer|boolean|bool|bytes|text|varchar|char|any|object|secretstr|securestring)(?:\(\d+\))?[!?]?)$|(?:^|\|)(?:required|nullable|sometimes|confirmed|min:\d|max:\d)/i;
/** The word "password" in other languages: a translation file's value, not a password. */
const TRANSLATION = /^(?:passwort|kennwort|contrase(?:ñ|n)a|senha|wachtwoord|lösenord|losenord|salasana|adgangskode|passord|parola|has(?:ł|l)o|heslo|jelsz(?:ó|o)|geslo|lozinka|şifre|sifre|пароль|密码|密碼|パスワード|비밀번호|mật khẩu)$/i;
/** A GraphQL schema's non-null type (`password: String!`), when unquoted. */
const GRAPHQL_TYPE = /^\[?[A-Z][A-Za-z]*\]?!$/;
/** A name in code (`new_password`, `env.DB_PASS`, `$this->pass`), when the value is not quoted. */
const IDENTIFIER_NAMING_A_SECRET = /^[A-Za-z_]\w*$/;
const SECRET_WORD = /pass|pwd|secret|token|key|cred/i;
const DOTTED_PATH = /^[A-Za-z_$][\w$]*(?:(?:\.|->|::)[A-Za-z_$][\w$]*)+$/;

export function isLiteralPassword(value: string, quoted: boolean, user?: string): boolean {
  if (value.length < 4 || value.length > 128) return false;
  if (isPlaceholder(value) || looksMadeUp(value) || isReference(value) || NOT_A_LITERAL.test(value) || TYPE_OR_RULE.test(value)) return false;
  // A label's punctuation aside (`"password": "Password:"`).
  const word = value.replace(/[:.!?*]+$/, '');
  if (word !== value && isPlaceholder(word)) return false;
  if (SERVICE_DEFAULT.test(word) || DESCRIPTION.test(word) || TRANSLATION.test(word) || isDocumentedExample(value)) return false;
  if (user !== undefined && value.toLowerCase() === user.toLowerCase()) return false;
  if (!quoted && (GRAPHQL_TYPE.test(value) || (IDENTIFIER_NAMING_A_SECRET.test(value) && SECRET_WORD.test(value)) || DOTTED_PATH.test(value))) return false;
  return true;
}
