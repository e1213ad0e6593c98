import type { Detector, Span } from './types.js';

/**
 * E-mail addresses written so that a harvester misses them and a person does not: the `@` in
 * brackets (`jane [at] example [dot] org`), as a word in another language (`alice arobase
 * exemple.fr`, `chiocciola`, `klammeraffe`, `arroba`), the dots spelt out (`asdf dot k@fb dot com`,
 * `punkt`, `punto`, `point`), or a plain `at`: before a domain with its dots spelt out when the
 * address is set off as addresses are (`<thomas at apestaart dot org>`) or its local part is no word
 * of prose (`wim dot taymans at gmail dot com`, `yo+yo at blah.org`). "She works at acme dot com"
 * and "look at google.com" are prose.
 */
const WORDLIKE = String.raw`[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}_+-]{0,62}[\p{L}\p{N}])?`;
const GAP = String.raw`\s{1,3}`;
const BRACKETED = (word: string): string => String.raw`\s{0,2}[\[({<]\s?${word}\s?[\])}>]\s{0,2}`;
const SPELT_DOT = String.raw`(?:${BRACKETED('(?:dot|punkt|punto|point|\\.)')}|${GAP}(?:dot|punkt|punto|point)${GAP})`;
const AT_WORDS = String.raw`${GAP}(?:arobase|chiocciola|klammeraffe|snabel-?a|arroba)${GAP}`;
/** A domain's last label: letters (`com`, `co.uk`'s `uk`), not a path after it. */
const TLD = String.raw`\p{L}{2,24}(?![\p{L}\p{N}_@\/-])`;
/** Labels and dots, written or spelt: `example.org`, `gmail dot com`, `example [dot] co [dot] uk`. */
const DOMAIN = String.raw`(?:${WORDLIKE}(?:\.|${SPELT_DOT})){1,8}${TLD}`;
const SPELT_DOMAIN = String.raw`(?:${WORDLIKE}(?:\.|${SPELT_DOT})){0,7}${WORDLIKE}${SPELT_DOT}${TLD}`;
const PLAIN_DOMAIN = String.raw`(?:${WORDLIKE}\.){1,8}${TLD}`;
const LOCAL = String.raw`${WORDLIKE}(?:(?:\.|${SPELT_DOT})${WORDLIKE}){0,6}`;
/** A local part no word of prose is: with a spelt or written dot, a `+`, `_` or digit in it (`wim dot taymans`, `yo+yo`). */
const ODD_LOCAL = String.raw`(?=${WORDLIKE}(?:\.|${SPELT_DOT})|[\p{L}\p{N}._-]*[+_\d])${LOCAL}`;

const SPELT = new RegExp(
  String.raw`(?<![\p{L}\p{N}._+-])(?:` +
    [
      // The @ in brackets, or a word for it: anything after it that is a domain.
      String.raw`${LOCAL}(?:${BRACKETED('at')}|${AT_WORDS})${DOMAIN}`,
      // A plain @ with a dot spelt out in the domain.
      String.raw`${LOCAL}@${SPELT_DOMAIN}`,
      // A plain at with a dot spelt out: set off as an address (`<… at … dot org>`, `(…)`), or from an odd local part.
      String.raw`(?<=[<(\[]\s?)${LOCAL}${GAP}at${GAP}${SPELT_DOMAIN}(?=\s?[>)\]])`,
      String.raw`${ODD_LOCAL}${GAP}at${GAP}${SPELT_DOMAIN}`,
      // A plain at before a written domain, after a local part with a `+` between words of two or more
      // (`yo+yo`; `Cmd+K at github.com` is a shortcut; a dash or a dot joins words and names files).
      String.raw`(?=[\p{L}\p{N}._-]*[\p{L}\p{N}]{2}\+[\p{L}\p{N}]{2})${WORDLIKE}(?:\.${WORDLIKE}){0,4}${GAP}at${GAP}${PLAIN_DOMAIN}`,
    ].join('|') +
    ')',
  'giu',
);

/** A local part that is a version or a number (`v1.2 at …`): no mailbox. */
const VERSION = /^v?\d+(?:[._-]\d+)*$/i;

/**
 * Where an address could be spelt. Prose is full of ` at `: the pattern runs only in a window around
 * an anchor that passes its own quick test (` at ` before a word run into a dot or a spelt dot; a
 * spelt dot with an @ or an `at` near it), never over the whole text, and a window is not read twice.
 */
const ANCHOR = /[ \t]at[ \t]|[\[({<] ?at ?[\])}>]|[ \t](?:arobase|chiocciola|klammeraffe|snabel-?a|arroba|dot|punkt|punto|point)[ \t]/gi;
/** Where an address could be spelt: `at` between spaces or in brackets, a word for `@`, a spelt dot. One pass over the text. */
const AT_BEFORE_DOMAIN = /[ \t]{1,3}at\s{1,3}[\p{L}\p{N}_+-]{1,63}(?:\.\p{L}|\s{1,3}(?:dot|punkt|punto|point)\s)/iuy;
const NEAR_AT = /@|\sat\s|[\[({<]\s?at\s?[\])}>]|arobase|chiocciola|klammeraffe|arroba/i;
const WINDOW = { before: 120, after: 240 };

/** The word that ends at `end`, back to the white space before it (a loop: `\S+$` tried from every position of a slice is quadratic). */
function wordBefore(text: string, end: number): { word: string; start: number } {
  let start = end;
  while (start > 0 && end - start < 200 && !/\s/.test(text[start - 1]!)) start--;
  return { word: text.slice(start, end), start };
}

function worthLooking(text: string, at: number, anchor: string): boolean {
  const word = anchor.trim().toLowerCase();
  if (word === 'at') {
    AT_BEFORE_DOMAIN.lastIndex = at;
    const after = AT_BEFORE_DOMAIN.exec(text);
    if (!after) return false;
    // Only what the plain-at shapes can match: a local part with a `+` before a written domain; before a spelt one, an
    // address set off by a bracket or a local part with a dot, a `+`, `_` or digit, or a spelt dot just before.
    const { word: local, start } = wordBefore(text, at);
    if (/\.\p{L}$/u.test(after[0])) return local.includes('+');
    return /[<(\[]|[._+\d-]/.test(local) || /\s(?:dot|punkt|punto|point)$/i.test(text.slice(Math.max(0, start - 8), start - 1));
  }
  if (word === 'dot' || word === 'punkt' || word === 'punto' || word === 'point') return NEAR_AT.test(text.slice(Math.max(0, at - 80), at + 80));
  return true;
}

export function spelledEmailDetector(): Detector {
  return {
    id: 'pii-email-spelled',
    label: 'pii.email',
    family: 'pii',
    keywords: [' at ', '[at]', '(at)', '{at}', '<at>', '[ at ]', '( at )', 'arobase', 'chiocciola', 'klammeraffe', 'snabel', 'arroba', ' dot ', 'punkt', 'punto', ' point '],
    find(text: string): Span[] {
      const found = new Map<number, Span>();
      let coveredTo = -1;
      for (const a of text.matchAll(ANCHOR)) {
        const at = a.index;
        // An anchor inside a window already read, far enough from its end for an address around it to have been whole there.
        if (at + 120 < coveredTo || !worthLooking(text, at, a[0])) continue;
        const from = Math.max(0, at - WINDOW.before);
        const to = Math.min(text.length, at + WINDOW.after);
        coveredTo = to;
        for (const m of text.slice(from, to).matchAll(SPELT)) {
          const local = m[0].split(/\s|@|[\[({<]/, 1)[0]!;
          // A match cut by the window's edge is found whole from a later anchor (its own dot or at).
          if (VERSION.test(local) || found.has(from + m.index) || (from > 0 && m.index === 0)) continue;
          found.set(from + m.index, { start: from + m.index, end: from + m.index + m[0].length });
        }
      }
      return [...found.values()].sort((a, b) => a.start - b.start);
    },
  };
}
