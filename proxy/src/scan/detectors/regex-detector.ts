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
    readonly gate?: RegExp,
  ) {
    this.#re = re.global ? re : new RegExp(re.source, re.flags + 'g');
  }

  find(text: string): Span[] {
    const spans: Span[] = [];
    const re = this.#re;
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (m[0].length === 0) {
        re.lastIndex++;
        continue;
      }
      const span = this.check(m);
      if (span) spans.push(span);
    }
    return spans;
  }
}
