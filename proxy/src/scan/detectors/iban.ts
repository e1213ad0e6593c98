import { DIGITS, windowed } from './gates.js';
import type { Detector, Span } from './types.js';
import { ibanLength, ibanValid } from './validators.js';

/** A country code (both letters of one case), where nothing alphanumeric comes before, with check digits next. */
const START = /(?<![A-Za-z0-9])(?:[A-Z]{2}|[a-z]{2})(?=[ .:-]?\d{2})/g;
const SEPARATOR = /[ .:-]/;
const ALNUM = /[A-Za-z0-9]/;

/**
 * IBANs as people and programs write them: compact, in the printed groups of four, or grouped
 * any other way (`ES10 0075 0080 11 0600658108`, `NO 02 15037577003`), with spaces, dashes, dots
 * or colons between groups, in either case. The country says how many characters to take; the
 * last must end a group, and mod-97 must hold. A group of letters only is a bank code of four,
 * or the last group: words of prose after a country code and two digits are not an account.
 */
export function ibanDetector(): Detector {
  return {
    id: 'pii-iban',
    label: 'pii.iban',
    family: 'pii',
    keywords: DIGITS,
    // The shortest IBAN (Norway) has 11 characters after its check digits.
    gate: windowed(/(?<![A-Za-z0-9])[A-Za-z]{2}[ .:-]?\d{2}(?:[ .:-]?[A-Za-z0-9]){11}/, 40),
    find(text: string): Span[] {
      const spans: Span[] = [];
      START.lastIndex = 0;
      for (let m = START.exec(text); m; m = START.exec(text)) {
        const end = ibanEnd(text, m.index, m[0].toUpperCase());
        if (end === -1) continue;
        spans.push({ start: m.index, end });
        START.lastIndex = end;
      }
      return spans;
    },
  };
}

/** Where the IBAN that starts at `at` ends, or -1 when none does. */
function ibanEnd(text: string, at: number, country: string): number {
  const length = ibanLength(country);
  if (length === undefined) return -1;
  let compact = country;
  let group = '';
  let pos = at + 2;
  while (compact.length < length && pos < text.length) {
    const c = text[pos]!;
    if (ALNUM.test(c)) {
      compact += c;
      group += c;
      pos++;
    } else if (SEPARATOR.test(c) && pos + 1 < text.length && ALNUM.test(text[pos + 1]!)) {
      if (!groupOk(group)) return -1;
      group = '';
      pos++;
    } else break;
  }
  if (compact.length < length || (pos < text.length && ALNUM.test(text[pos]!))) return -1;
  return ibanValid(compact) ? pos : -1;
}

/** A group of letters alone is a four-letter bank code; a longer or shorter one is a word. */
const groupOk = (group: string): boolean => group.length === 0 || /\d/.test(group) || group.length === 4;
