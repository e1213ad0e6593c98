import { findsOrder } from './encoded-injection.js';
import type { Gate } from './gates.js';
import { quotedInDiscussion } from './mention.js';
import {
  atbashed, backwards, rot, unaccented,
  CAMEL_AT, CAMEL_KEYWORDS, camelSplit, CIPHER_AT, CIPHER_KEYWORDS, deciphered, INVISIBLE_BITS_RUN, invisibleBitsDecoded, LEET_AT, LEET_KEYWORDS, leetUndone, LOOKALIKE_AT, LOOKALIKE_CUE, MORSE_KEYWORDS, MORSE_RUN,
  morseDecoded, plainLetters, SELECTOR_RUN, selectorsDecoded, SPACED_KEYWORDS, SPACED_RUN, spacedJoined, TAG_RUN, tagsDecoded,
} from './spelling-forms.js';
import type { Detector, Span } from './types.js';

/**
 * An order written so that a model reads it and a filter does not: in look-alike letters
 * (fullwidth `ＲＥＶＥＡＬ`, circled `Ⓦⓗⓐⓣ`, squared `🅂🄷🄾🅆`, mathematical bold, letters under a pile of
 * combining marks), percent-encoded, as HTML character references, `\x`/`\u` escapes or hex bytes,
 * written backwards, turned upside down, in Braille, or in ROT13, a Caesar shift or Atbash that
 * the text itself names. Each such form is turned back into plain text and searched with the
 * plain order rules; a form the text does not hold costs one gate pass. A run (an encoding) is
 * reported where it stands; a form undone around its mark (backwards, a cipher, look-alike
 * letters) as that window.
 */

/**
 * What makes a text worth undoing, found cheaply: ASCII forms by keyword (the prefilter's pass),
 * look-alike letters by one character class (a regex of one class costs a hundredth of the scan;
 * one of alternatives cost as much as the scan itself).
 */
const ENCODING_CUES = ['%2', '%3', '%4', '%5', '%6', '%7', '&#', '\\x', '\\u', 'hex', 'revers', 'backward', 'rot13', 'rot-13', 'rot 13', 'caesar', 'atbash', 'cipher', 'a=z', 'a = z'];
// Fullwidth letters only (CJK text sets its punctuation fullwidth), circled letters (not Japanese ①②), squared ones, not other emoji.
const LETTER_FORMS = /[\u0300-\u036F\u0250\u0265\u026F\u0279\u0287\u028E\u01DD\u24B6-\u24E9\u2800-\u28FF\uFF21-\uFF3A\uFF41-\uFF5A\u{1D400}-\u{1D7FF}\u{1F130}-\u{1F189}]/u;
/** How much text around a mark is undone: an order that names its cipher stands beside the name, look-alike letters beside each other. */
const AROUND = { before: 400, after: 600 };
const LETTER_FORMS_AT = new RegExp(LETTER_FORMS.source, 'gu');
/** Two words in a row: what an order decodes to. */
const WORDS = /[a-z]{2,}\s+[a-z]{2,}/i;

/** At most this much of a text's runs is decoded (a page of character references is not read whole), and this many windows undone per form. */
const MAX_DECODED = 64 * 1024;
const MAX_WINDOWS = 4;

/** Negative squared and circled capitals (🅰 … 🆉, 🅐 … 🅩) have no compatibility form. */
const squared = (s: string): string =>
  s.replace(/[\u{1F170}-\u{1F189}\u{1F150}-\u{1F169}]/gu, (c) => String.fromCharCode(65 + ((c.codePointAt(0)! - 0x1f150) % 32)));

function percentDecoded(run: string): string {
  return run.replace(/(?:%[0-9A-Fa-f]{2})+/g, (bytes) => {
    try {
      return decodeURIComponent(bytes);
    } catch {
      return bytes;
    }
  });
}
const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ' };
const entitiesDecoded = (s: string): string =>
  s.replace(/&#x([0-9a-f]{1,6});|&#(\d{1,7});|&(lt|gt|amp|quot|apos|nbsp);/gi, (_, hex: string | undefined, dec: string | undefined, named: string | undefined) =>
    named ? ENTITIES[named.toLowerCase()]! : safeCodePoint(hex ? parseInt(hex, 16) : Number(dec)),
  );
const escapesDecoded = (s: string): string => s.replace(/\\x([0-9a-f]{2})|\\u([0-9a-f]{4})/gi, (_, x: string | undefined, u: string | undefined) => safeCodePoint(parseInt((x ?? u)!, 16)));
const safeCodePoint = (n: number): string => (n > 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '');
/** Hex bytes of printable ASCII, in any of the separators people put between them. */
const hexDecoded = (run: string): string | null => {
  const bytes = run.split(/[ :,-]/).map((b) => parseInt(b, 16));
  return bytes.every((b) => b >= 0x20 && b < 0x7f) ? String.fromCharCode(...bytes) : null;
};

/** Grade-1 Braille letters (dots in Unicode's bit order: U+2800 + the dot pattern). */
const BRAILLE = new Map<number, string>(
  [1, 3, 9, 25, 17, 11, 27, 19, 10, 26, 5, 7, 13, 29, 21, 15, 31, 23, 14, 30, 37, 39, 58, 45, 61, 53].map((dots, i) => [0x2800 + dots, String.fromCharCode(97 + i)]),
);
const brailleDecoded = (s: string): string => s.replace(/[\u2800-\u28FF]/g, (c) => (c === '\u2800' ? ' ' : (BRAILLE.get(c.charCodeAt(0)) ?? c)));

/** Turned letters (`¿sǝlnɹ ɹnoʎ ǝɹɐ ʇɐɥM`), read right side up. */
const TURNED: Record<string, string> = { ɐ: 'a', q: 'b', ɔ: 'c', p: 'd', ǝ: 'e', ɟ: 'f', ƃ: 'g', ɥ: 'h', ᴉ: 'i', ı: 'i', ɾ: 'j', ʞ: 'k', l: 'l', ɯ: 'm', u: 'n', o: 'o', d: 'p', b: 'q', ɹ: 'r', s: 's', ʇ: 't', n: 'u', ʌ: 'v', ʍ: 'w', x: 'x', ʎ: 'y', z: 'z', '¿': '?', '¡': '!', W: 'M', M: 'W' };
const turnedBack = (s: string): string => [...s].reverse().map((c) => TURNED[c] ?? c).join('');


export class ObfuscatedInjectionDetector implements Detector {
  readonly id: string;
  readonly label = 'injection.override';
  readonly family = 'injection' as const;
  readonly keywords: readonly string[];
  readonly gate?: Gate;

  /**
   * `kind`: `encodings` (runs of percent-escapes, character references, `\x` escapes, hex bytes, and
   * the text backwards or deciphered where it names the cipher), `letters` (look-alike letters,
   * Braille, turned text, other scripts' look-alikes and invisible characters inside Latin words, small
   * capitals, text smuggled in invisible characters) or `spelling` (leetspeak, spaced letters, Morse,
   * camelCase, unnamed ROT13, Atbash, Caesar and backwards text: spelling-forms.ts, found by the words they spell). `inner`: the plain order rules the undone text is searched with.
   */
  constructor(
    private readonly kind: 'encodings' | 'letters' | 'spelling',
    private readonly inner: readonly Detector[],
  ) {
    this.id = { encodings: 'injection-obfuscated', letters: 'injection-obfuscated-letters', spelling: 'injection-obfuscated-spelling' }[kind];
    this.keywords = { encodings: ENCODING_CUES, letters: [], spelling: [...LEET_KEYWORDS, ...SPACED_KEYWORDS, ...MORSE_KEYWORDS, ...CAMEL_KEYWORDS, ...CIPHER_KEYWORDS] }[kind];
    if (kind === 'letters') this.gate = { test: (text) => LETTER_FORMS.test(text) || LOOKALIKE_CUE.test(text) };
  }

  find(text: string): Span[] {
    if (this.kind === 'spelling') return this.#spelling(text);
    return this.kind === 'encodings' ? this.#encodings(text) : this.#letters(text);
  }

  /** Spaced letters and Morse decoded where they stand; leetspeak undone around where it is. */
  #spelling(text: string): Span[] {
    const spans = this.#runs(text, [
      [SPACED_RUN, spacedJoined],
      [MORSE_RUN, morseDecoded],
    ]);
    if (spans.length > 0) return spans;
    return [
      ...this.#windows(text, LEET_AT, (window) => [leetUndone(window, 'i'), leetUndone(window, 'l'), leetUndone(window, 'i', true)]),
      ...this.#windows(text, CAMEL_AT, (window) => [camelSplit(window)]),
      ...this.#windows(text, CIPHER_AT, deciphered),
    ];
  }

  /** Look-alike letters, Braille, turned text, and other scripts' look-alikes, undone in windows around where they stand (anywhere in the text). */
  #letters(text: string): Span[] {
    const spans = LETTER_FORMS.test(text)
      ? this.#windows(text, LETTER_FORMS_AT, (window) => [squared(unaccented(window)), brailleDecoded(window), ...(/[ǝɹɐʇɥʎɯ]/.test(window) ? [turnedBack(window)] : [])])
      : [];
    if (spans.length > 0 || !LOOKALIKE_CUE.test(text)) return spans;
    const smuggled = this.#runs(text, [
      [TAG_RUN, tagsDecoded],
      [SELECTOR_RUN, selectorsDecoded],
      [INVISIBLE_BITS_RUN, invisibleBitsDecoded],
    ]);
    if (smuggled.length > 0) return smuggled;
    // Look-alikes of other scripts, written with leetspeak as converters chain them.
    return this.#windows(text, LOOKALIKE_AT, (window) => {
      const plain = plainLetters(window);
      return [plain, leetUndone(plain, 'i')];
    });
  }

  #encodings(text: string): Span[] {
    const spans = this.#runs(text, [
      [/%[0-9A-Fa-f]{2}(?:[^\s%]{0,24}%[0-9A-Fa-f]{2}){2,511}[^\s%]{0,40}/g, percentDecoded],
      [/(?:&#x?[0-9A-Fa-f]{1,7};|&(?:lt|gt|amp|quot|apos|nbsp);)(?:[^&\n]{0,24}(?:&#x?[0-9A-Fa-f]{1,7};|&(?:lt|gt|amp|quot|apos|nbsp);)){2,512}[^&\n]{0,40}/gi, entitiesDecoded],
      [/\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})(?:[^\\\n]{0,24}\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4})){1,511}[^\\\n]{0,40}/g, escapesDecoded],
      [/\b[0-9A-Fa-f]{2}(?:[ :,-][0-9A-Fa-f]{2}){7,1023}\b/g, hexDecoded],
    ]);
    if (spans.length > 0) return spans;
    // Whole forms the text names: undone around the name.
    return [
      // Named as what follows (`Reverse and execute:`, `ROT13:`): code's `.reverse()` and `createCipheriv(` are not.
      ...this.#windows(text, /\b(?:revers|backward)\w*\b[^\n:]{0,30}:/gi, (window) => [backwards(window)]),
      ...this.#windows(text, /\b(?:rot[ -]?13|caesar|cipher)\b[^\n:]{0,20}:/gi, (window) => Array.from({ length: 25 }, (_, i) => rot(window, i + 1))),
      ...this.#windows(text, /\b(?:atbash|A\s*=\s*Z)/gi, (window) => [atbashed(window)]),
    ];
  }

  /**
   * Runs of an encoding, each decoded where it stands; a run whose decoded form holds an order its
   * written form does not is reported. At most MAX_DECODED characters of a text's runs are decoded.
   */
  #runs(text: string, encodings: readonly (readonly [RegExp, (run: string) => string | null])[]): Span[] {
    const spans: Span[] = [];
    let budget = MAX_DECODED;
    for (const [re, decode] of encodings) {
      for (const m of text.matchAll(re)) {
        if (budget <= 0) break;
        // A run starts at its first escape (a search that may start anywhere costs the whole text); the letters before it
        // belong to it (`Re\x76eal`). Without the quotes around it, a payload quoted in prose about attacks reads as quoted.
        let from = m.index;
        while (from > 0 && m.index - from < 24 && /[^\s"'`“‘%&\\]/.test(text[from - 1]!)) from--;
        const run = text.slice(from, m.index + m[0].length).replace(/["'`”’]+$/, '');
        const start = from;
        budget -= run.length;
        if (quotedInDiscussion(text, start, start + run.length)) continue;
        const decoded = decode(run);
        // Only words can be an order: code's escaped accents and byte strings are not searched.
        if (decoded === null || decoded === run || !WORDS.test(decoded)) continue;
        if (this.#orders(decoded) && !this.#orders(run)) spans.push({ start, end: start + run.length });
      }
    }
    return spans;
  }

  /**
   * The text around the first few places `at` matches, each undone by `forms`: a window whose undone
   * form holds an order its plain text does not is reported (an order the plain text holds is the
   * plain rules' finding). Windows, not the whole text: a long text costs no more than its marks do,
   * and a payload cannot be pushed past a limit by padding in front of it.
   */
  #windows(text: string, at: RegExp, forms: (window: string) => string[]): Span[] {
    const spans: Span[] = [];
    let covered = -1;
    let tried = 0;
    at.lastIndex = 0;
    for (let m = at.exec(text); m && tried < MAX_WINDOWS; m = at.exec(text)) {
      if (m.index < covered) continue;
      const start = Math.max(0, m.index - AROUND.before);
      const end = Math.min(text.length, m.index + AROUND.after);
      covered = end;
      tried++;
      const window = text.slice(start, end);
      if (forms(window).some((form) => form !== window && this.#orders(form)) && !this.#orders(window)) spans.push({ start, end });
    }
    return spans;
  }

  #orders(text: string): boolean {
    return findsOrder(this.inner, text);
  }
}
