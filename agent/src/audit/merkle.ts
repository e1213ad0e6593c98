// The Merkle tree of RFC 6962 §2.1 / RFC 9162 §2.1: leaf hash SHA-256(0x00 || record),
// interior hash SHA-256(0x01 || left || right), a tree of n leaves split at the largest
// power of two smaller than n. Proof generation and verification follow the RFCs' algorithms.
import { hash } from 'node:crypto';
import { nativePrefixedSha256 } from '../native.js';

export type Hash = Buffer;

// The writer hashes two inputs per record. node:crypto pays OpenSSL 3's per-call context set-up
// (~2 µs, more than hashing a record); the addon calls the same OpenSSL without it (~0.4 µs).
const prefixed = nativePrefixedSha256();

// One-shot hashing of one prefixed buffer: a Hash object per call cost the audit writer
// more than the rest of appending a record.
function cryptoLeafHash(record: Uint8Array): Hash {
  const input = Buffer.allocUnsafe(1 + record.length);
  input[0] = 0;
  input.set(record, 1);
  return hash('sha256', input, 'buffer');
}

function cryptoNodeHash(left: Hash, right: Hash): Hash {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = 1;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

export const leafHash: (record: Uint8Array) => Hash = prefixed ? (record) => prefixed(0, record) : cryptoLeafHash;
export const nodeHash: (left: Hash, right: Hash) => Hash = prefixed ? (left, right) => prefixed(1, left, right) : cryptoNodeHash;

/** The node:crypto versions, for the test that holds the addon's digests to them. */
export const reference = { leafHash: cryptoLeafHash, nodeHash: cryptoNodeHash };

export const EMPTY_ROOT: Hash = hash('sha256', Buffer.alloc(0), 'buffer');

/** Largest power of two strictly smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** MTH(D[lo:hi]) from leaf hashes. */
export function subtreeRoot(leaves: readonly Hash[], lo = 0, hi = leaves.length): Hash {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo]!;
  const k = split(n);
  return nodeHash(subtreeRoot(leaves, lo, lo + k), subtreeRoot(leaves, lo + k, hi));
}

/** PATH(m, D[0:n]) of RFC 6962 §2.1.1: the audit path of leaf m in the tree of the first n leaves. */
export function inclusionProof(leaves: readonly Hash[], m: number, n: number): Hash[] {
  if (m < 0 || m >= n || n > leaves.length) throw new RangeError(`no leaf ${m} in a tree of ${n}`);
  const path = (m: number, lo: number, hi: number): Hash[] => {
    const size = hi - lo;
    if (size === 1) return [];
    const k = split(size);
    return m < k ? [...path(m, lo, lo + k), subtreeRoot(leaves, lo + k, hi)] : [...path(m - k, lo + k, hi), subtreeRoot(leaves, lo, lo + k)];
  };
  return path(m, 0, n);
}

/** PROOF(m, D[0:n]) of RFC 6962 §2.1.2: consistency of the tree of the first m leaves with that of n. */
export function consistencyProof(leaves: readonly Hash[], m: number, n: number): Hash[] {
  if (m < 0 || m > n || n > leaves.length) throw new RangeError(`no consistency proof from ${m} to ${n}`);
  if (m === 0 || m === n) return [];
  const subproof = (m: number, lo: number, hi: number, whole: boolean): Hash[] => {
    const size = hi - lo;
    if (m === size) return whole ? [] : [subtreeRoot(leaves, lo, hi)];
    const k = split(size);
    if (m <= k) return [...subproof(m, lo, lo + k, whole), subtreeRoot(leaves, lo + k, hi)];
    return [...subproof(m - k, lo + k, hi, false), subtreeRoot(leaves, lo, lo + k)];
  };
  return subproof(m, 0, n, true);
}

function equal(a: Hash, b: Hash): boolean {
  return a.length === b.length && a.equals(b);
}

/** RFC 9162 §2.1.3.2: verifies that `leaf` is at `index` in the tree of `size` with `root`. */
export function verifyInclusion(index: number, size: number, leaf: Hash, proof: readonly Hash[], root: Hash): boolean {
  if (index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && equal(r, root);
}

/** RFC 9162 §2.1.4.2: verifies that the tree (size1, root1) is a prefix of (size2, root2). */
export function verifyConsistency(size1: number, size2: number, root1: Hash, root2: Hash, proof: readonly Hash[]): boolean {
  if (size1 < 0 || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && equal(root1, root2);
  if (size1 === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  let path = [...proof];
  // A first tree that is a whole left subtree is its own first proof node.
  if ((size1 & (size1 - 1)) === 0) path = [root1, ...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else sr = nodeHash(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equal(fr, root1) && equal(sr, root2) && sn === 0;
}

/**
 * The running root of an append-only tree without keeping every leaf: the roots of the
 * perfect subtrees its size decomposes into (its binary digits), left to right.
 */
export class CompactRange {
  #size = 0;
  readonly #peaks: Hash[] = [];

  get size(): number {
    return this.#size;
  }

  append(leaf: Hash): void {
    let h = leaf;
    let n = this.#size;
    while (n % 2 === 1) {
      h = nodeHash(this.#peaks.pop()!, h);
      n = Math.floor(n / 2);
    }
    this.#peaks.push(h);
    this.#size++;
  }

  root(): Hash {
    if (this.#size === 0) return EMPTY_ROOT;
    let r = this.#peaks[this.#peaks.length - 1]!;
    for (let i = this.#peaks.length - 2; i >= 0; i--) r = nodeHash(this.#peaks[i]!, r);
    return r;
  }
}
