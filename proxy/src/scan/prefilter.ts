import type { DenyPattern } from './messages.js';

/**
 * A necessary condition for a pattern set, cheap enough for the event loop: for each
 * pattern, a literal every match must contain. When none of them occurs in a window, no
 * pattern can match there, and the window never has to cross to a scan worker.
 * A pattern without a provable literal makes the prefilter say "maybe" for every window.
 */
export interface Prefilter {
  /** False only when no pattern can match anywhere in `text`. */
  mayMatch(text: string): boolean;
}

const ALWAYS: Prefilter = { mayMatch: () => true };

export function buildPrefilter(patterns: readonly DenyPattern[]): Prefilter {
  if (patterns.length === 0) return { mayMatch: () => false };
  const exact: string[] = [];
  const folded: string[] = [];
  for (const p of patterns) {
    const literal = requiredLiteral(p.pattern, p.flags);
    if (literal === null) return ALWAYS;
    if (p.flags.includes('i')) folded.push(literal.toLowerCase());
    else exact.push(literal);
  }
  return {
    mayMatch(text: string): boolean {
      for (const l of exact) if (text.includes(l)) return true;
      if (folded.length > 0) {
        const lower = text.toLowerCase();
        for (const l of folded) if (lower.includes(l)) return true;
      }
      return false;
    },
  };
}

const QUANTIFIER_START = new Set(['?', '*', '+', '{']);
/** Characters that end a literal run; `\` is handled on its own. */
const BREAKS = new Set(['[', '(', ')', '.', '^', '$', '|', '?', '*', '+', '{', '}']);
const MIN_USEFUL = 3;

/**
 * The longest literal run a match of `source` must contain, or null when none can be
 * proved. Deliberately conservative: any top-level alternation, any construct it does
 * not understand, or case folding beyond ASCII gives null (the pattern is always scanned).
 */
export function requiredLiteral(source: string, flags: string): string | null {
  // Unicode case folding maps non-ASCII characters onto ASCII ones (ſ → s, K → k); a plain
  // lower-case comparison would miss those, so such patterns are always scanned.
  if (flags.includes('i') && flags.includes('u')) return null;
  // `v` mode nests character classes, which the bracket scan below does not follow.
  if (flags.includes('v')) return null;
  let best = '';
  let run = '';
  const endRun = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (c === '\\') {
      const next = source[i + 1];
      if (next === undefined) return null;
      if (/[A-Za-z0-9]/.test(next)) {
        // \d \w \s \b \B, back-references, \x.. \u.. \c. — not a literal we can vouch for.
        endRun();
        i += 2;
        i = skipQuantifier(source, i);
        continue;
      }
      i = appendLiteral(source, i + 2, next);
      continue;
    }
    if (c === '|') return null;
    if (c === '(') {
      endRun();
      const close = closingParen(source, i);
      if (close < 0) return null;
      i = skipQuantifier(source, close + 1);
      continue;
    }
    if (c === '[') {
      endRun();
      const close = closingBracket(source, i);
      if (close < 0) return null;
      i = skipQuantifier(source, close + 1);
      continue;
    }
    if (BREAKS.has(c)) {
      endRun();
      i = skipQuantifier(source, i + 1);
      continue;
    }
    i = appendLiteral(source, i + 1, c);
  }
  endRun();
  if (flags.includes('i') && /[^\x00-\x7f]/.test(best)) return null;
  return best.length >= MIN_USEFUL ? best : null;

  /** Adds `char` to the run unless a quantifier makes it optional or repeatable. */
  function appendLiteral(src: string, after: number, char: string): number {
    if (QUANTIFIER_START.has(src[after] ?? '')) {
      // `a+` still requires one `a`, but `a?`, `a*` and `a{0,}` do not: end the run before it.
      const quantifier = src[after];
      endRun();
      if (quantifier === '+') run = char;
      endRun();
      return skipQuantifier(src, after);
    }
    run += char;
    return after;
  }
}

function skipQuantifier(src: string, at: number): number {
  let i = at;
  const c = src[i];
  if (c === '?' || c === '*' || c === '+') i++;
  else if (c === '{') {
    const close = src.indexOf('}', i);
    if (close > 0 && /^\{\d*(,\d*)?\}$/.test(src.slice(i, close + 1))) i = close + 1;
    else return i;
  } else return i;
  if (src[i] === '?') i++; // lazy
  return i;
}

function closingParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === '[') {
      const close = closingBracket(src, i);
      if (close < 0) return -1;
      i = close;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

function closingBracket(src: string, open: number): number {
  let i = open + 1;
  if (src[i] === '^') i++;
  if (src[i] === ']') i++;
  for (; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') i++;
    else if (c === ']') return i;
  }
  return -1;
}
