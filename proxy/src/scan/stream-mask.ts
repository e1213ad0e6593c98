import type { Fragment } from '../core/fragment.js';
import type { Verdict } from '../core/verdict.js';

/** A part of a fragment's text to replace: the mark goes where the match begins, continuations vanish. */
interface Piece {
  start: number;
  end: number;
  mark: string;
}

interface Held {
  fragment: Fragment;
  /** Offsets of the fragment's text in the whole stream's text. */
  start: number;
  end: number;
  pieces: Piece[];
}

/**
 * Redaction on a stream: the last `hold` characters of the stream are held back (the relay
 * does not write their fragments yet), so a match found when its last character arrives can
 * still be masked in every fragment it spans. A match that began in text already released
 * cannot be masked and is refused instead. Holding delays what the agent sees by `hold`
 * characters; it is on only when the policy redacts something in responses.
 */
export class StreamMask {
  readonly #hold: number;
  #held: Held[] = [];
  /** Characters of the stream seen so far. */
  #total = 0;
  /** Text before this offset may already have been written. */
  #released = 0;

  constructor(hold: number) {
    this.#hold = hold;
  }

  /** Takes a batch; returns the stream offset at which its text begins. */
  add(fragments: readonly Fragment[]): number {
    const begins = this.#total;
    for (const f of fragments) {
      const start = this.#total;
      this.#total += f.text.length;
      this.#held.push({ fragment: f, start, end: this.#total, pieces: [] });
    }
    return begins;
  }

  /** Masks stream offsets [start, end) as `[REDACTED:label]`; false when part of it is already released. */
  mask(start: number, end: number, label: string, verdict: Verdict): boolean {
    if (start < this.#released) return false;
    let first = true;
    for (const h of this.#held) {
      if (h.end <= start || h.start >= end) continue;
      h.pieces.push({ start: Math.max(start, h.start) - h.start, end: Math.min(end, h.end) - h.start, mark: first ? `[REDACTED:${label}]` : '' });
      first = false;
      h.fragment.redaction = { text: apply(h.fragment.text, h.pieces), verdict };
    }
    return true;
  }

  /** After a batch: the position of the first fragment still held; what precedes it is released. */
  heldFrom(): number | null {
    const keepFrom = this.#total - this.#hold;
    let i = 0;
    while (i < this.#held.length && this.#held[i]!.end <= keepFrom) i++;
    if (i > 0) this.#held = this.#held.slice(i);
    const first = this.#held[0];
    this.#released = first ? first.start : this.#total;
    return first ? (first.fragment.seq ?? null) : null;
  }
}

/** The text with its pieces replaced; overlapping pieces merge, the first mark stands. */
function apply(text: string, pieces: readonly Piece[]): string {
  const sorted = [...pieces].sort((a, b) => a.start - b.start || b.end - a.end);
  let out = '';
  let at = 0;
  for (const p of sorted) {
    if (p.end <= at) continue;
    out += text.slice(at, Math.max(at, p.start)) + (p.start >= at ? p.mark : '');
    at = p.end;
  }
  return out + text.slice(at);
}
