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
    v[h & mask]! += h & 0x80000000 ? -1 : 1;
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
  let norm = 0;
  for (let i = 0; i < dims; i++) {
    const x = v[i]!;
    const scaled = x === 0 ? 0 : Math.sign(x) * Math.log1p(Math.abs(x));
    v[i] = scaled;
    norm += scaled * scaled;
  }
  if (norm > 0) {
    const inv = 1 / Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i]! *= inv;
  }
  return v;
}

/**
 * Overlapping windows of a long text: an instruction buried in a long document is scored on its own.
 * Past `max` windows the stride widens (the windows overlap less), so the whole text is still covered.
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
