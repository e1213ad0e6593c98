import type { Gate } from './gates.js';
import type { Detector, Family, Span } from './types.js';

/**
 * A detector from one global regex and an optional check on each match. Patterns here are
 * written to run in linear time (no nested quantifiers; bounded repeats), and the adversarial
 * tests in test/unit/detectors.test.ts hold them to it.
 */
export class RegexDetector implements Detector {
  readonly #re: RegExp;

  constructor(
    readonly id: string,
    readonly label: string,
    readonly family: Family,
    readonly keywords: readonly string[],
    re: RegExp,
    /** Returns the sensitive span of a match, or null when the match is a look-alike. */
    private readonly check: (m: RegExpExecArray) => Span | null = (m) => ({ start: m.index, end: m.index + m[0].length }),
    readonly gate?: Gate,
    /**
     * When every match holds this literal within `before`/`after` characters (and its
     * look-behind within one more), only the regions around the literal's occurrences are
     * searched: a long prompt with one `@` costs one short regex run, not a pass over all of it.
     */
    private readonly around?: { literal: string; before: number; after: number },
  ) {
    this.#re = re.global ? re : new RegExp(re.source, re.flags + 'g');
  }

  find(text: string): Span[] {
    if (!this.around) return this.#search(text, 0, text.length);
    const { literal, before, after } = this.around;
    const spans: Span[] = [];
    let regionEnd = -1;
    for (let at = text.indexOf(literal); at !== -1; at = text.indexOf(literal, at + literal.length)) {
      if (at < regionEnd) continue;
      let end = Math.min(text.length, at + literal.length + after);
      // Grow the region over occurrences it already reaches, so one region covers a cluster.
      for (let next = text.indexOf(literal, at + literal.length); next !== -1 && next < end; next = text.indexOf(literal, next + literal.length)) {
        end = Math.min(text.length, next + literal.length + after);
      }
      const start = Math.max(regionEnd, at - before - 1, 0);
      spans.push(...this.#search(text, start, end));
      regionEnd = end;
    }
    return spans;
  }

  #search(text: string, from: number, to: number): Span[] {
    const spans: Span[] = [];
    const re = this.#re;
    const slice = from === 0 && to === text.length ? text : text.slice(from, to);
    re.lastIndex = 0;
    for (let m = re.exec(slice); m; m = re.exec(slice)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = this.check(m);
      if (span) spans.push(from === 0 ? span : { start: span.start + from, end: span.end + from });
    }
    return spans;
  }
}
