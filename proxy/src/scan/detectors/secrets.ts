import { isDocumentedExample } from './documented.js';
import { isPlaceholder, isPlaceholderPem, isReference } from './placeholders.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';
import { namedSecretValueDetectors } from './named-secret-values.js';
import { vendorTokenDetectors } from './vendor-tokens.js';

const whole = (m: RegExpExecArray): Span => ({ start: m.index, end: m.index + m[0].length });
/** A provider token: random enough, and not one the provider printed in its docs. */
const token = (minEntropy: number) => (m: RegExpExecArray) => (shannonEntropy(m[0]) > minEntropy && !isDocumentedExample(m[0]) ? whole(m) : null);

// Data stores and brokers, whose URLs are how a login is configured; driver variants (`mysql2`, `postgresql+psycopg2`) included.
const DATA_STORE_SCHEMES = 'postgres(?:ql)?|postgis|pgsql|mysql[2x]?|mariadb|mongodb(?:\\+srv)?|rediss?|valkey|amqps?|mssql|sqlserver|oracle|clickhouse|cockroachdb|cassandra|couchdbs?|neo4j|bolt|influxdb|memcached?|nats';
// Other URLs that may carry `user:password@`; here `admin:admin` and the like are common examples, so the check is stricter.
const SERVICE_SCHEMES = 'https?|wss?|s?ftps?|smtps?|imaps?|pop3s?|ldaps?|ssh|git|svn';

/**
 * The password of a `scheme://user:password@host` match (groups 1 and 2), unless it is a placeholder,
 * the user's own name (`postgres:postgres@`, a service's shipped default) or fails `strong`.
 */
function urlPassword(strong: (password: string) => boolean) {
  return (m: RegExpExecArray): Span | null => {
    const password = m[2]!;
    if (isPlaceholder(password) || isReference(password) || password.toLowerCase() === m[1]!.toLowerCase() || !strong(password)) return null;
    const start = m.index + m[0].indexOf(`:${password}@`) + 1;
    return { start, end: start + password.length };
  };
}
function decodeOrKeep(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
/** A port is not a password (`http://host:8080@…` is a typo), and a real one is more than a short word. */
const strongUrlPassword = (p: string) => p.length >= 8 && !/^\d+$/.test(p) && /[^A-Za-z]/.test(p) && shannonEntropy(p) > 2.5;
const userinfoUrl = (schemes: string) => new RegExp(String.raw`\b(?:${schemes})(?:\+\w{1,20})?:\/\/([^\s:\/@'"]{0,64}):([^\s@\/'"]{1,128})@[^\s\/'"]{1,253}`, 'gi');
/** Scheme (≤ 40 with a driver suffix) before `://`, user, password and host after: only the text around each `://` is searched. */
const AROUND_SCHEME = { literal: '://', before: 40, after: 450 };

/**
 * Secrets the gitleaks set misses or matches only in an older shape: URLs with a password,
 * current OpenAI and Anthropic key formats of any length, and provider tokens whose gitleaks
 * rule needs the provider's name beside them (Telegram) or a length the provider no longer keeps
 * (Atlassian), or that gitleaks has no rule for (Docker Hub).
 */
/**
 * The start of a private key's DER: a SEQUENCE whose first member is the version INTEGER, 0 or 1 —
 * PKCS#1 RSA and DSA (version 0, then the modulus or p), PKCS#8 (version 0, then the algorithm's
 * SEQUENCE), SEC1 EC (version 1, then the private scalar as an OCTET STRING of a curve's size). Public
 * keys and certificates open with a SEQUENCE inside the SEQUENCE, an RSA public key with a long INTEGER.
 */
function isPrivateKeyDer(base64: string): boolean {
  const der = Buffer.from(base64.slice(0, 32), 'base64');
  if (der[0] !== 0x30) return false;
  const at = der[1]! < 0x80 ? 2 : 2 + (der[1]! & 0x7f);
  if (at > 4 || der[at] !== 0x02 || der[at + 1] !== 0x01) return false;
  const version = der[at + 2];
  const next = der[at + 3];
  if (version === 0) return next === 0x02 || next === 0x30;
  // SEC1: the scalar's length is the curve's (P-256 and secp256k1 32, P-384 48, P-521 66). (Version 1 then a SEQUENCE is
  // as often a curve's explicit parameters, which are public, as a PKCS#8 v2 key.)
  return version === 1 && next === 0x04 && [32, 48, 66].includes(der[at + 4]!);
}

/**
 * A header written about, not a key: no footer follows, and the header's own line goes on in prose
 * (`a key starting with ``-----BEGIN PRIVATE KEY-----`` or ``-----BEGIN RSA …``.`). A header that
 * ends its line is a key whose body follows on the next lines, whatever stands before each (a log's
 * timestamps, `cat -n`, a quote's `>`), or is still to come (a stream's fragment).
 */
function namedOnly(block: string, afterHeader: number): boolean {
  // (In the block the header opens, as isPlaceholderPem reads it: a search to the text's end at every header is quadratic.)
  if (block.includes('-----END', afterHeader)) return false;
  const rest = block.slice(afterHeader, afterHeader + 200).split(/\r?\n|\\[nr]/, 1)[0]!;
  // A string that holds the header alone, closed and followed by code (`startsWith("-----BEGIN …-----")) {`); not one
  // continued by `+` or `,` (a key written as a concatenation or a list of its lines).
  if (/^\s*["'`]\s*(?![+,\\\s]|$)/.test(rest)) return true;
  const line = rest.replace(/[\s"'`+,;(){}\[\]\\]+/g, '');
  return line.length > 0 && !/^(?:[A-Za-z0-9+/=]+|Proc-Type:.*)$/.test(line);
}

export function extraSecretDetectors(): Detector[] {
  return [
    // The header alone: on a stream, the key is cut before any of its material is delivered.
    // A whole block around `...` or `xxx` is a placeholder; a header without its footer is not judged.
    new RegexDetector('private-key-header', 'secret', 'secrets', ['private key'], /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----/g, (m) => {
      const block = m.input.slice(m.index, m.index + 16384);
      // What stands before the header on its line (a log line's timestamp) may stand before every line of the block.
      const prefix = m.index - (m.input.lastIndexOf('\n', m.index - 1) + 1);
      const placeholder = isPlaceholderPem(block) && (prefix === 0 || isPlaceholderPem(block, prefix));
      return placeholder || namedOnly(block, m[0].length) ? null : { start: m.index, end: m.index + m[0].length };
    }),
    // A private key's DER in base64 without its PEM armour (a string in code, a config value): the ASN.1 says what it is.
    new RegexDetector('private-key-der-base64', 'secret', 'secrets', ['mii', 'mig', 'mih', 'mhc', 'mhq', 'mc4', 'mec', 'mee', 'mey', 'mde'], /(?<![A-Za-z0-9+\/])M[IHCDE][A-Za-z0-9+\/]{62,16384}={0,2}(?![A-Za-z0-9+\/=])/g, (m) =>
      isPrivateKeyDer(m[0]) && shannonEntropy(m[0]) > 4.3 ? { start: m.index, end: m.index + m[0].length } : null,
    ),
    // PuTTY's .ppk files: the private half is the base64 after `Private-Lines: <n>` (encrypted or not, as a PEM block is).
    new RegexDetector('putty-private-key', 'secret', 'secrets', ['private-lines:'], /\bPrivate-Lines:[ \t]*\d{1,3}\r?\n([A-Za-z0-9+\/=]{16,128})/g, (m) => {
      const start = m.index + m[0].length - m[1]!.length;
      return shannonEntropy(m[1]!) > 4 ? { start, end: start + m[1]!.length } : null;
    }),
    // A Google service-account key file in base64 (as a Kubernetes Secret or a CI variable holds it): `{"type": "service_account"`
    // encoded, compact or as gcloud writes it, whose decoded text carries a private key.
    // (Compact, `json.dumps`' `": "`, and gcloud's two-space indent.)
    new RegexDetector('gcp-service-account-base64', 'secret', 'secrets', ['eyj0exblijoic2vydmljzv9hy2nvdw50', 'eyj0exblijoginnlcnzpy2vfywnjb3vudc', 'ewogicj0exblijoginnlcnzpy2vfywnjb3vudc'], /(?:eyJ0eXBlIjoic2VydmljZV9hY2NvdW50|eyJ0eXBlIjogInNlcnZpY2VfYWNjb3VudC|ewogICJ0eXBlIjogInNlcnZpY2VfYWNjb3VudC)[A-Za-z0-9+\/]{100,16384}={0,2}/g, (m) =>
      Buffer.from(m[0], 'base64').toString('utf8').includes('"private_key"') ? { start: m.index, end: m.index + m[0].length } : null,
    ),
    // A Tink keyset in cleartext JSON: a symmetric or private key's material in `value`, beside its Tink type (escaped in a string too).
    new RegexDetector('tink-cleartext-keyset', 'secret', 'secrets', ['google.crypto.tink.'], /type\.googleapis\.com\/google\.crypto\.tink\.\w{2,60}Key\b/g, (m) => {
      const around = m.input.slice(m.index, m.index + 600);
      return /keyMaterialType\\?"\s*:\s*\\?"(?:SYMMETRIC|ASYMMETRIC_PRIVATE)/.test(around) && /\\?"value\\?"\s*:\s*\\?"[A-Za-z0-9+\/=]{16,}/.test(around) ? { start: m.index, end: m.index + m[0].length } : null;
    }),
    // A private JSON Web Key (RFC 7517/7518): the private exponent or scalar `d` beside a `kty`.
    new RegexDetector('jwk-private-key', 'secret', 'secrets', ['"kty"'], /"d"[ \t]*:[ \t]*"([A-Za-z0-9_-]{32,1400})"/g, (m) => {
      const around = m.input.slice(Math.max(0, m.index - 3000), m.index + 3000);
      if (!/"kty"[ \t]*:/.test(around) || shannonEntropy(m[1]!) <= 4 || isDocumentedExample(m[1]!)) return null;
      const start = m.index + m[0].length - 1 - m[1]!.length;
      return { start, end: start + m[1]!.length };
    }),
    new RegexDetector(
      'database-url-password',
      'secret',
      'secrets',
      ['://'],
      userinfoUrl(DATA_STORE_SCHEMES),
      urlPassword(() => true),
      undefined,
      AROUND_SCHEME,
    ),
    new RegexDetector(
      'url-password',
      'secret',
      'secrets',
      ['://'],
      userinfoUrl(SERVICE_SCHEMES),
      urlPassword((p) => strongUrlPassword(decodeOrKeep(p))),
      undefined,
      AROUND_SCHEME,
    ),
    new RegexDetector(
      'openai-api-key-current',
      'secret',
      'secrets',
      ['sk-proj-', 'sk-svcacct-', 'sk-admin-'],
      /\bsk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,200}/g,
      token(4),
    ),
    new RegexDetector(
      'anthropic-api-key-any-length',
      'secret',
      'secrets',
      ['sk-ant-'],
      /\bsk-ant-(?:api|admin|oat)\d{2}-[A-Za-z0-9_-]{32,160}/g,
      token(4),
    ),
    // Bot id, colon, 35 characters that always begin `AA`: distinctive without the word "telegram".
    // Also inside the Bot API's own URLs, `https://api.telegram.org/bot<token>/sendMessage`.
    new RegexDetector('telegram-bot-token-bare', 'secret', 'secrets', [':aa'], /(?:(?<=\/bot)|(?<![\w:-]))[1-9]\d{7,10}:AA[A-Za-z0-9_-]{33}(?![\w-])/g, token(4)),
    new RegexDetector('dockerhub-access-token', 'secret', 'secrets', ['dckr_pat_', 'dckr_oat_'], /\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{24,64}(?![\w-])/g, token(3.5)),
    // `ATATT3…=` and an 8-hex checksum; gitleaks' rule wants exactly 192 characters, real ones vary.
    ...vendorTokenDetectors(),
    ...namedSecretValueDetectors(),
    new RegexDetector('atlassian-api-token-any-length', 'secret', 'secrets', ['atatt3'], /\bATATT3[A-Za-z0-9_-]{120,300}=[0-9A-Fa-f]{8}(?![\w=-])/g, token(4)),
  ];
}
