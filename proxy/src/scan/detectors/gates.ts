/**
 * The keywords of a detector whose every match holds a digit: prose without one (most prompts
 * and replies) skips its gate's regex, found absent by the keyword pass the text gets anyway.
 */
export const DIGITS: readonly string[] = Object.freeze(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);

/** A cheap test a text must pass before a keyword-less detector's regex is worth running. */
export interface Gate {
  test(text: string): boolean;
}

/**
 * A regex gate run over windows of the text rather than all of it at once. A gate such as
 * `\d(?:[ -]?\d){12}` backtracks a dozen steps at every digit of a long list of short numbers (a
 * CSV of amounts); past V8's limit of 50,000 backtracks in one search it falls back to its
 * linear engine, some twenty times slower. In windows of 2 KiB no search gets near the limit.
 * Windows overlap by `longest`, the longest text the gate can match, so none is missed.
 */
export function windowed(re: RegExp, longest: number, size = 2048): Gate {
  if (re.global || re.sticky) throw new TypeError('a gate regex keeps no state between texts');
  return {
    test(text: string): boolean {
      if (text.length <= size) return re.test(text);
      for (let at = 0; at < text.length; at += size - longest) if (re.test(text.slice(at, at + size))) return true;
      return false;
    },
  };
}
