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
  /** How far the committed heap may grow past what the last collection left before one is asked for. */
  growthBytes: number;
  collector?: Collect | null;
  /** The committed heap, in bytes (tests give their own). */
  heapBytes?: () => number;
}

/**
 * Decides, at each `check()`, whether the heap is worth a collection. The baseline is the
 * committed heap after the last collection this reclaimer asked for (or the lowest seen since):
 * live data that really grew moves it up after one collection, so a large but live heap is
 * not collected again and again.
 */
export class HeapReclaimer {
  readonly #growth: number;
  readonly #collect: Collect | null;
  readonly #heapBytes: () => number;
  #baseline: number;
  #settling = false;
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
      // What the collection asked for last time left: the new baseline, whatever it is.
      this.#settling = false;
      this.#baseline = heap;
      return false;
    }
    if (heap < this.#baseline) this.#baseline = heap;
    if (!this.#collect || heap - this.#baseline <= this.#growth) return false;
    this.#collect({ type: 'major', execution: 'async' });
    this.#settling = true;
    this.#reclaims++;
    return true;
  }
}
