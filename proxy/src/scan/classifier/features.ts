// The featurizer of Altrace's own classifiers: hashed character and word n-grams. A model built by
// `altrace content train` names it in its metadata, so a model and the features it was trained on
// cannot drift apart: the same function turns text into the model's input at training and at scan time.

/** Named in a model's metadata (`altrace.featurizer`); a model with another name is not read with these features. */
export const HASHED_NGRAMS = 'hashed-ngrams/v1';

export interface HashedNgramOptions {
  /** Width of the feature vector (the model's input width); a power of two. */
  dims: number;
}

/** Text as the features see it: compatibility forms folded, lower case, whitespace runs as one space. */
export function normalizeForFeatures(text: string): string {
  return text.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

// FNV-1a over UTF-16 code units, seeded per n-gram kind so a word and a character n-gram of the same
// letters land in different buckets.
function fnv1a(text: string, start: number, end: number, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

const WORD = /[\p{L}\p{N}_]+|[^\s\p{L}\p{N}_]/gu;

/**
 * Character 3–5-grams and word 1–2-grams, hashed into `dims` buckets with a sign bit (so collisions
 * cancel rather than pile up), log-scaled and L2-normalised: a long document and a short one give
 * vectors of the same length.
 */
export function hashedNgrams(text: string, options: HashedNgramOptions): Float32Array {
  const { dims } = options;
  const v = new Float32Array(dims);
  const mask = dims - 1;
  const add = (h: number) => {
    const i = h & mask;
    if (v[i] === 0) touched.push(i);
    v[i]! += h & 0x80000000 ? -1 : 1;
  };
  const s = ` ${normalizeForFeatures(text)} `;
  for (let n = 3; n <= 5; n++) for (let i = 0; i + n <= s.length; i++) add(fnv1a(s, i, i + n, n));
  const words = s.match(WORD) ?? [];
  let previous = '';
  for (const w of words) {
    add(fnv1a(w, 0, w.length, 101));
    if (previous) {
      const pair = `${previous} ${w}`;
      add(fnv1a(pair, 0, pair.length, 102));
    }
    previous = w;
  }
  // Only the buckets a window touched are visited: a window is a few hundred n-grams, the vector tens of thousands wide.
  let norm = 0;
  for (const i of touched) {
    const x = v[i]!;
    if (x === 0 || Number.isNaN(x)) continue;
    const scaled = Math.sign(x) * Math.log1p(Math.abs(x));
    v[i] = Number.NaN; // visited: a bucket touched twice is scaled once
    scaledAt.push(i, scaled);
    norm += scaled * scaled;
  }
  const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let k = 0; k < scaledAt.length; k += 2) v[scaledAt[k]!] = scaledAt[k + 1]! * inv;
  touched.length = 0;
  scaledAt.length = 0;
  return v;
}

const touched: number[] = [];
const scaledAt: number[] = [];

/** The windows a text is scored in: the size of a paragraph, so one sentence in it weighs enough. */
export const WINDOW_CHARS = 320;
export const WINDOW_STRIDE = 160;
/** About 160 KB read in full; a longer text is read in windows spread evenly over it. */
export const MAX_WINDOWS = 1024;

/**
 * Overlapping windows of a long text: an instruction buried in a long document is scored on its own.
 * Past `max` windows the stride widens: the windows overlap less, then leave gaps, spread evenly to the end.
 */
export function windows(text: string, size: number, stride: number, max: number): string[] {
  if (text.length <= size) return [text];
  const step = Math.max(stride, Math.ceil((text.length - size) / Math.max(1, max - 1)));
  const out: string[] = [];
  for (let start = 0; ; start += step) {
    if (start + size >= text.length) {
      out.push(text.slice(Math.max(0, text.length - size)));
      return out;
    }
    out.push(text.slice(start, start + size));
  }
}
