import type { Detector, Span } from './types.js';

/**
 * E-mail addresses written so that a harvester misses them and a person does not: the `@` in
 * brackets (`jane [at] example [dot] org`), as a word in another language (`alice arobase
 * exemple.fr`, `chiocciola`, `klammeraffe`, `arroba`), the dots spelt out (`asdf dot k@fb
 * dot com`, `punkt`, `punto`), or a plain `at` when the part before it is no word of prose (`yo+yo at
 * blah.org`; "look at google.com" is prose).
 */
const WORDLIKE = String.raw`[\p{L}\p{N}](?:[\p{L}\p{M}\p{N}_+-]{0,62}[\p{L}\p{N}])?`;
const BRACKETED = (word: string): string => String.raw`\s?[\[({<]\s?${word}\s?[\])}>]\s?`;
const SPELT_DOT = String.raw`(?:${BRACKETED('(?:dot|punkt|punto|point)')}|\s(?:dot|DOT|punkt|punto)\s)`;
const AT_WORDS = String.raw`\s(?:arobase|chiocciola|klammeraffe|snabel-?a|arroba)\s`;
/** A domain's last label: letters (`com`, `co.uk`'s `uk`), not a path after it. */
const TLD = String.raw`\p{L}{2,24}(?![\p{L}\p{N}_@\/-])`;
/** Labels and dots, written or spelt: `example.org`, `gmail dot com`, `example [dot] co [dot] uk`. */
const DOMAIN = String.raw`(?:${WORDLIKE}(?:\.|${SPELT_DOT})){1,8}${TLD}`;
const PLAIN_DOMAIN = String.raw`(?:${WORDLIKE}\.){1,8}${TLD}`;
const LOCAL = String.raw`${WORDLIKE}(?:(?:\.|${SPELT_DOT})${WORDLIKE}){0,6}`;

const SPELT = new RegExp(
  String.raw`(?<![\p{L}\p{N}._+-])(?:` +
    [
      // The @ in brackets, or a word for it: anything after it that is a domain.
      String.raw`${LOCAL}(?:${BRACKETED('at')}|${AT_WORDS})${DOMAIN}`,
      // A plain @ or at, with a dot spelt out in the domain.
      String.raw`${LOCAL}(?:@|\sat\s)(?:${WORDLIKE}(?:\.|${SPELT_DOT})){0,7}${WORDLIKE}${SPELT_DOT}${TLD}`,
      // A plain at before a written domain, after a local part no word of prose is: one with a `+` in it (a dash or a dot
      // joins words and names files: `state-of-the-art at example.com`, `README.md at github.com`).
      String.raw`(?=[\p{L}\p{N}._-]*\+)${WORDLIKE}(?:\.${WORDLIKE}){0,4}\sat\s${PLAIN_DOMAIN}`,
    ].join('|') +
    ')',
  'giu',
);

/** A local part that is a version or a number (`v1.2 at …`): no mailbox. */
const VERSION = /^v?\d+(?:[._-]\d+)*$/i;

/**
 * Where an address could be spelt. Prose is full of ` at `: the pattern runs only in a window around
 * an anchor that passes its own quick test (` at ` before a word run into a dot or a spelt dot; a
 * spelt dot with an @ or an `at` near it), never over the whole text.
 */
const ANCHORS = [' at ', ' AT ', ' At ', '[at]', '[AT]', '(at)', '(AT)', '{at}', '<at>', '[ at ]', '( at )', ' arobase ', ' chiocciola ', ' klammeraffe ', ' snabel', ' arroba ', ' dot ', ' DOT ', ' punkt ', ' punto '];
const AT_BEFORE_DOMAIN = /\s(?:at|AT|At)\s[\p{L}\p{N}_+-]{1,63}(?:\.\p{L}|\s(?:dot|DOT|punkt|punto)\s)/uy;
const NEAR_AT = /@|\sat\s|[\[({<]\s?at\s?[\])}>]/i;
const WINDOW = { before: 160, after: 320 };

function worthLooking(text: string, at: number, anchor: string): boolean {
  if (anchor.trim().toLowerCase() === 'at') {
    AT_BEFORE_DOMAIN.lastIndex = at;
    return AT_BEFORE_DOMAIN.test(text);
  }
  if (/^ (?:dot|DOT|punkt|punto) $/.test(anchor)) return NEAR_AT.test(text.slice(Math.max(0, at - 80), at + 80));
  return true;
}

export function spelledEmailDetector(): Detector {
  return {
    id: 'pii-email-spelled',
    label: 'pii.email',
    family: 'pii',
    keywords: [' at ', '[at]', '(at)', '{at}', '<at>', '[ at ]', '( at )', 'arobase', 'chiocciola', 'klammeraffe', 'snabel', 'arroba', ' dot ', 'punkt', 'punto'],
    find(text: string): Span[] {
      const found = new Map<number, Span>();
      for (const anchor of ANCHORS) {
        for (let at = text.indexOf(anchor); at !== -1; at = text.indexOf(anchor, at + 1)) {
          if (!worthLooking(text, at, anchor)) continue;
          const from = Math.max(0, at - WINDOW.before);
          const to = Math.min(text.length, at + WINDOW.after);
          for (const m of text.slice(from, to).matchAll(SPELT)) {
            const local = m[0].split(/\s|@|[\[({<]/, 1)[0]!;
            if (VERSION.test(local) || found.has(from + m.index)) continue;
            // A match cut by the window's edge is found whole from a later anchor (its own dot or at).
            if (from > 0 && m.index === 0) continue;
            found.set(from + m.index, { start: from + m.index, end: from + m.index + m[0].length });
          }
        }
      }
      return [...found.values()].sort((a, b) => a.start - b.start);
    },
  };
}
