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

// FNV-1a over UTF-16 code units, run once per position over the next five characters: the 3-, 4-
// and 5-gram starting there are its prefixes, each finished with its length so they land apart.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function finish(h: number, kind: number): number {
  let x = Math.imul(h ^ kind, 0x85ebca6b);
  x ^= x >>> 13;
  return Math.imul(x, 0xc2b2ae35) ^ (x >>> 16);
}

function isWordChar(c: number): boolean {
  // ASCII letters, digits and _; every non-ASCII code unit counts as a letter (scripts without spaces hash as runs).
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c >= 128;
}

/**
 * Character 3–5-grams and word 1–2-grams, hashed into `dims` buckets with a sign bit (so collisions
 * cancel rather than pile up), log-scaled and L2-normalised: a long document and a short one give
 * vectors of the same length.
 */
export function hashedNgrams(text: string, options: HashedNgramOptions): Float32Array {
  return hashedNgramsInto(normalizeForFeatures(text), new Float32Array(options.dims));
}

/**
 * The features of already-normalised text written into `v` (zeroed; its length is the width): a
 * batch fills its rows in place, and a long text is normalised once, not once per window.
 */
export function hashedNgramsInto(normalized: string, v: Float32Array): Float32Array {
  const dims = v.length;
  const mask = dims - 1;
  const add = (h: number) => {
    const i = h & mask;
    if (v[i] === 0) touched.push(i);
    v[i]! += h & 0x80000000 ? -1 : 1;
  };
  const s = ` ${normalized} `;
  const n = s.length;
  for (let i = 0; i + 3 <= n; i++) {
    let h = FNV_OFFSET;
    for (let k = 0; k < 5 && i + k < n; k++) {
      h = Math.imul(h ^ s.charCodeAt(i + k), FNV_PRIME);
      if (k >= 2) add(finish(h, k + 1));
    }
  }
  // Words (runs of word characters) and single punctuation marks, then each adjacent pair.
  let previous = 0;
  let havePrevious = false;
  for (let i = 0; i < n; ) {
    const c = s.charCodeAt(i);
    if (c === 32) {
      i++;
      continue;
    }
    let h = FNV_OFFSET;
    if (isWordChar(c)) {
      for (; i < n && isWordChar(s.charCodeAt(i)); i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
    } else {
      h = Math.imul(h ^ c, FNV_PRIME);
      i++;
    }
    add(finish(h, 101));
    if (havePrevious) add(finish(Math.imul(previous ^ 0x9e3779b9, FNV_PRIME) ^ h, 102));
    previous = h;
    havePrevious = true;
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
