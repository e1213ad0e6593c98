/**
 * Whether a response repeats the system prompt: every run of SHINGLE characters of the
 * normalised system prompt (lower case, whitespace collapsed) is kept as a rolling hash,
 * and the response is checked run by run as it streams. A hash match is confirmed against
 * the text, so a collision never blocks.
 */
export const SHINGLE = 48;
const BASE = 257;
const MOD = 2_147_483_629;

export function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ');
}

function power(): number {
  let p = 1;
  for (let i = 0; i < SHINGLE - 1; i++) p = (p * BASE) % MOD;
  return p;
}
const HIGH = power();

function eachShingle(text: string, visit: (hash: number, end: number) => boolean | void): void {
  if (text.length < SHINGLE) return;
  let h = 0;
  for (let i = 0; i < text.length; i++) {
    if (i >= SHINGLE) h = (h - ((text.charCodeAt(i - SHINGLE) * HIGH) % MOD) + MOD) % MOD;
    h = (h * BASE + text.charCodeAt(i)) % MOD;
    if (i >= SHINGLE - 1 && visit(h, i + 1) === true) return;
  }
}

export class SystemPromptIndex {
  readonly #hashes = new Set<number>();
  readonly #source: string;

  constructor(systemPrompt: string) {
    this.#source = normalise(systemPrompt);
    eachShingle(this.#source, (h) => void this.#hashes.add(h));
  }

  get empty(): boolean {
    return this.#hashes.size === 0;
  }

  /** The end (in `normalisedText`) of the first run it shares with the system prompt, or -1. */
  firstLeak(normalisedText: string): number {
    let found = -1;
    eachShingle(normalisedText, (h, end) => {
      if (this.#hashes.has(h) && this.#source.includes(normalisedText.slice(end - SHINGLE, end))) {
        found = end;
        return true;
      }
      return false;
    });
    return found;
  }
}
