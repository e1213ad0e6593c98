import { isDocumentedExample } from './documented.js';
import { DESCRIBES_A_SECRET, isPlaceholder } from './placeholders.js';
import { RegexDetector } from './regex-detector.js';
import type { Detector, Span } from './types.js';
import { shannonEntropy } from './validators.js';

/**
 * Secrets assigned to a secret-ish name, in the two shapes gitleaks' generic rule leaves out:
 * values with punctuation (its value class is `[\w.=-]`, so Django's `SECRET_KEY = 'i%cJ…'` is
 * invisible to it) and a password written in a sentence, with no `=` at all. Both demand a value
 * that looks generated: long, mixed character classes, a digit, high entropy.
 */

/** What gitleaks' generic rule can see; a value made only of these is left to it. */
const GENERIC_VALUE = /^[\w.=+/-]+$/;
/** Not values: template or environment references, paths, URLs and URNs (`urn:…`, `vault:…`), function calls, markup, HTML entities. */
const NOT_A_LITERAL = /^[$%{<~/]|^[a-z][a-z0-9+.-]{1,15}:|:\/\/|^[A-Za-z_][\w.]*\(|[<>]|&#?\w+;/;
/** An identifier that merely names the secret (`csrf_token`, `next_page_token`, `public_key`). */
const NOT_SECRET_NAME = /(?:csrf|xsrf|page|cursor|continuation|sync|public|publishable)[_.-]?$/i;

function classes(value: string): number {
  return (/[a-z]/.test(value) ? 1 : 0) + (/[A-Z]/.test(value) ? 1 : 0) + (/\d/.test(value) ? 1 : 0) + (/[^A-Za-z0-9_]/.test(value) ? 1 : 0);
}

/** Generated-looking: a digit, three character classes, high entropy, and not a placeholder or reference. */
function looksGenerated(value: string, minEntropy: number): boolean {
  return /\d/.test(value) && classes(value) >= 3 && shannonEntropy(value) > minEntropy && !isPlaceholder(value) && !NOT_A_LITERAL.test(value) && !isDocumentedExample(value);
}

const atLineStart = (text: string, at: number) => /(?:^|\n)(?:export[ \t]+)?$/.test(text.slice(Math.max(0, at - 8), at));
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

export function passwordDetectors(): Detector[] {
  return [
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
      ['password', 'passphrase', 'passwd'],
      // "… user acme password Xy7#… (rotate it)", "the passphrase is Xy7#…": no `=`, so no other rule looks.
      /\b(?:password|passphrase|passwd)[ \t]+(?:(?:is|was)[ \t]+)?["'“‘]?([^\s"'`”’]{10,64})/gi,
      (m) => {
        const value = m[1]!.replace(/[.,;:!?)\]}]+$/, '');
        if (value.length < 10 || !looksGenerated(value, 3.3)) return null;
        return valueSpan(m, 1, value);
      },
    ),
  ];
}
