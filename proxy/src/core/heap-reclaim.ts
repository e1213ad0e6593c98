import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * Giving memory back after a burst of large bodies. V8 collects when allocation asks it to, so
 * a process that goes quiet after ten-megabyte requests keeps their garbage, and the pages
 * under it, for as long as it stays quiet: measured, ~300 MB for minutes
 * (docs/benchmarks.md, "Memory after heavy inputs"). A reclaimer watches the committed heap
 * and, when it has grown well past what the last collection left, asks for one full
 * collection, concurrent, off the request path.
 */

export type Collect = (options: { type: 'major'; execution: 'async' }) => void;

let collect: Collect | null | undefined;

/**
 * V8's collector, made reachable without starting node with --expose-gc: the flag, set once,
 * puts `gc` into contexts created after it (worker threads included, which read it from
 * globalThis). Null where the runtime refuses.
 */
export function exposeCollector(): Collect | null {
  if (collect !== undefined) return collect;
  const global = (globalThis as { gc?: Collect }).gc;
  if (typeof global === 'function') return (collect = global);
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    collect = typeof fn === 'function' ? (fn as Collect) : null;
  } catch {
    collect = null;
  }
  return collect;
}

export interface HeapReclaimerOptions {
  /** How far the committed heap may grow past where it rests before one is asked for. */
  growthBytes: number;
  collector?: Collect | null;
  /** The committed heap, in bytes (tests give their own). */
  heapBytes?: () => number;
}

/** Checks skipped, at most, between collections that each leave the heap grown (12 × 5 s: one a minute). */
export const MAX_RETRY_SKIP = 12;

/**
 * Decides, at each `check()`, whether the heap is worth a collection. The baseline is where the
 * heap rests: the lowest committed heap seen, or what a collection left when it brought the heap
 * back within the bound. A collection that leaves it grown (asked for mid-burst, while the
 * bodies were still live, or because live data really grew) keeps the baseline and is tried
 * again after a doubling number of checks, up to one a minute: adopting the grown heap as the
 * baseline would keep a burst's garbage for as long as traffic stays quiet, which is what the
 * reclaimer is for, and a large live heap costs one concurrent collection a minute at most.
 */
export class HeapReclaimer {
  readonly #growth: number;
  readonly #collect: Collect | null;
  readonly #heapBytes: () => number;
  #baseline: number;
  #settling = false;
  #retrySkip = 0;
  #skipLeft = 0;
  #reclaims = 0;

  constructor(options: HeapReclaimerOptions) {
    this.#growth = options.growthBytes;
    this.#collect = options.collector === undefined ? exposeCollector() : options.collector;
    this.#heapBytes = options.heapBytes ?? (() => getHeapStatistics().total_heap_size);
    this.#baseline = this.#heapBytes();
  }

  /** Collections asked for so far. */
  get reclaims(): number {
    return this.#reclaims;
  }

  /** True when it asked for a collection now. */
  check(): boolean {
    const heap = this.#heapBytes();
    if (this.#settling) {
      this.#settling = false;
      if (heap - this.#baseline <= this.#growth) {
        // Back where it rests, give or take live data within the bound: that is the new rest.
        this.#baseline = heap;
        this.#retrySkip = 0;
      } else {
        this.#retrySkip = Math.min(MAX_RETRY_SKIP, Math.max(1, this.#retrySkip * 2));
        this.#skipLeft = this.#retrySkip;
      }
      return false;
    }
    if (heap < this.#baseline) this.#baseline = heap;
    if (!this.#collect || heap - this.#baseline <= this.#growth) return false;
    if (this.#skipLeft > 0) {
      this.#skipLeft--;
      return false;
    }
    this.#collect({ type: 'major', execution: 'async' });
    this.#settling = true;
    this.#reclaims++;
    return true;
  }
}
