import { isDocumentedExample } from './documented.js';
import { isPlaceholder, isPublicKey, looksMadeUp } from './placeholders.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * A generated value that the word before it calls a secret, without `=` or `:` between them —
 * how people write one in notes, chat and tickets (`clockify SECRET y7sb…`, `the API key
 * 3k144a5a…`, `todoist token: 5179f75c…`) — and a hex key that a secret's name is joined to by a
 * dash (`dd-apikey-dd52c2…`, `dd_secret_key-3c0c39…`). The word alone says little, so the value
 * must look generated: long, letters and digits mixed, random (not a word, a name, a made-up run,
 * a documented example) — and a word that says the key is no secret (`public key`, `primary key`,
 * `cache key`) keeps it quiet.
 */

/** Words that call the next value a secret; `key` and `access` only as a whole word. */
const SECRET_WORD = String.raw`(?:api[ _-]?key|api[ _-]?token|access[ _-]?key|access[ _-]?token|auth[ _-]?token|secret[ _-]?key|private[ _-]?key|secret|token|key|access|private|apikey|secretkey)`;
/** Qualifiers that make the key or token something else: a table's, a cache's, a request's, a public one. */
const NOT_A_SECRET_BEFORE = /(?:public|publishable|primary|foreign|sort|partition|cache|idempotency|lookup|row|composite|unique|hash|checksum|integrity|digest|license|product|registry|csrf|xsrf|page|pagination|cursor|continuation|sync|next|correlation|request|trace|session[ _-]?id|object|s3|file|encryption[ _-]?key[ _-]?id|gpg|pgp|rsa|dsa|ecdsa|ed25519|ssh[ _-]?public|host|erc-?20|trc-?20|bep-?20|spl|nft|contract)[ _-]*$/i;
/** Before `token` only: a currency's ticker (`USDC token EPjF…`, `WETH token 0xC02a…` name a contract's public address). */
const TICKER_BEFORE = /\b[A-Z][A-Z0-9]{2,9}[ \t]+$/;
/** Public values that follow a key's or token's word: addresses and public keys by their prefixes, integrity hashes, paths to files. */
const PUBLIC_VALUE = /^(?:0x[0-9a-f]{40}$|npub1|xpub|ypub|zpub|tpub|age1|bc1|sha(?:256|384|512)-|ssh-|ecdsa-)|\.[a-z]{2,4}$/i;
/** Words between the secret's word and its value that say what follows is not the secret (`key id 5d41…`, `token length 32…`). */
const NOT_THE_VALUE = /^(?:id|ids|name|names|length|size|type|hash|sha|fingerprint|digest|checksum|format|prefix|version|count|expires?|expiry|rotation|file|path|url)\b/i;

/** The value: 20–128 characters of what tokens are made of, ending at white space or sentence punctuation. */
const VALUE = String.raw`([A-Za-z0-9][A-Za-z0-9_+/=.-]{18,126}[A-Za-z0-9=])(?=$|[\s.,!?)'"\]}>])`;

function generated(value: string): boolean {
  if (!/\d/.test(value) || !/[A-Za-z]/.test(value)) return false;
  const hex = /^[0-9a-f]+$/i.test(value);
  // A hex value is a digest's length, and random; otherwise mixed and random as base62/64 is.
  if (hex ? !(value.length === 32 || value.length === 40 || value.length === 64) || shannonEntropy(value) <= 3.2 : shannonEntropy(value) <= 3.8) return false;
  // A dashed or dotted name with a number (`release-2024-build-17`), a UUID-shaped request id under a plain word, a path.
  // (Random base62/64 seldom has two digit-free runs of three letters or more between its separators.)
  if (value.split(/[-_./]/).filter((p) => /^[a-z]{3,}$/i.test(p)).length >= 2) return false;
  return !isPlaceholder(value) && !isPublicKey(value) && !looksMadeUp(value) && !isDocumentedExample(value);
}

export function namedSecretValueDetectors(): Detector[] {
  return [
    new RegexDetector(
      'secret-word-then-value',
      'secret',
      'secrets',
      ['secret', 'token', 'key', 'access', 'private'],
      // The word, maybe "is", ":" or "-" after it, then the value; the word ends a name or stands alone. (With `=`, code
      // and config assign it: the assignment rules judge those. A value followed by `;` or `(` is code too.)
      new RegExp(String.raw`(?<![A-Za-z])${SECRET_WORD}(?![A-Za-z])(?:[ \t]+(?:is|was|-{1,2})|[ \t]*:)?[ \t]+["'\x60]?${VALUE}`, 'gi'),
      (m) => {
        const value = m[1]!;
        const before = m.input.slice(Math.max(0, m.index - 40), m.index);
        if (NOT_A_SECRET_BEFORE.test(before) || NOT_THE_VALUE.test(value) || PUBLIC_VALUE.test(value) || !generated(value)) return null;
        if (/^token/i.test(m[0]) && TICKER_BEFORE.test(before)) return null;
        const start = m.index + m[0].length - value.length;
        return { start, end: start + value.length } satisfies Span;
      },
    ),
    new RegexDetector(
      'secret-name-dash-hex',
      'secret',
      'secrets',
      ['key-', 'key_'],
      // `dd-apikey-<32 hex>`, `dd_secret_key-<40 hex>`: a key's name and the key as one token (not a resource named after
      // what it holds, `app-token-<hex>`, a branch, a bucket, a file: `npm-token-<hex>.json`).
      /(?<![\w\/.-])[a-z]{2,20}[-_](?:api[-_]?key|secret[-_]?key|access[-_]key)[-_]([0-9a-f]{32}|[0-9a-f]{40})(?![\w.\/-])/gi,
      (m) => {
        const value = m[1]!;
        if (!/\d/.test(value) || !/[a-f]/i.test(value) || shannonEntropy(value) <= 3.2 || looksMadeUp(value) || isDocumentedExample(value)) return null;
        const start = m.index + m[0].length - value.length;
        return { start, end: start + value.length };
      },
    ),
  ];
}
