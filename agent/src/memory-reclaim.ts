import { Counter } from 'prom-client';
import { HeapReclaimer } from '../../proxy/src/core/heap-reclaim.js';
import type { ProxyMetrics } from '../../proxy/src/metrics.js';
import { allocatorFreeBytes, releaseFreedMemory } from './native.js';

/** Often enough that a quiet agent is back to size within seconds; a check is one heap-statistics call. */
const CHECK_EVERY_MS = 5_000;
/**
 * Freed C-allocator memory worth handing back. V8's optimizing compiler and request buffers
 * free their chunks into glibc's arenas, which keep them: measured, 25–30 MB after a warm-up
 * of a few hundred requests, in RSS until trimmed (docs/benchmarks.md, session 19).
 */
export const TRIM_FREE_BYTES = 8 * 2 ** 20;

/**
 * When to trim: the allocator's freed memory has grown by TRIM_FREE_BYTES since the last trim.
 * A trim hands the pages back but leaves the chunks free in the arena (mallinfo2 still counts
 * them), so the level itself says nothing; its growth does. Reuse lowers the mark.
 */
export class TrimDecision {
  #mark: number;

  constructor(freeBytes: number) {
    this.#mark = freeBytes;
  }

  /** True when the memory freed since the last trim is worth a trim now. */
  due(freeBytes: number): boolean {
    if (freeBytes < this.#mark) this.#mark = freeBytes;
    return freeBytes - this.#mark > TRIM_FREE_BYTES;
  }

  /** A trim ran with this much freed. */
  trimmed(freeBytes: number): void {
    this.#mark = freeBytes;
  }
}

export interface HeapReclaim {
  stop(): void;
}

/**
 * The agent's own memory after heavy inputs (limits.heap_reclaim_mb; null when 0): a full
 * collection when the heap has grown past the bound, then, once it has run, the allocator's
 * freed pages back to the system; and those pages whenever the allocator keeps more than
 * TRIM_FREE_BYTES of them. Scan workers hold their own heaps and end after a minute
 * idle (proxy/src/scan/pool.ts), which returns those.
 */
export function startHeapReclaim(growthMb: number, metrics: ProxyMetrics): HeapReclaim | null {
  if (growthMb <= 0) return null;
  const reclaimer = new HeapReclaimer({ growthBytes: growthMb * 2 ** 20 });
  const reclaims = new Counter({
    name: 'altrace_heap_reclaims_total',
    help: 'Full collections the agent asked for because its heap had grown by limits.heap_reclaim_mb since the last one.',
    registers: [metrics.registry],
  });
  const trims = new Counter({
    name: 'altrace_allocator_trims_total',
    help: 'Times the agent handed the C allocator\'s freed memory back to the system (8 MiB more freed and kept since the last time, or after a collection it asked for).',
    registers: [metrics.registry],
  });
  let trimPending = false;
  // A trim at the first check gives back what start-up (module compilation) freed.
  const trim = new TrimDecision(0);
  const timer = setInterval(() => {
    // The collection asked for at the last check has run by now: its freed chunks can go back.
    // So can what the allocator kept from other frees, once there is enough of it to matter.
    const free = allocatorFreeBytes();
    if (trimPending || (free !== null && trim.due(free))) {
      trimPending = false;
      if (releaseFreedMemory()) trims.inc();
      if (free !== null) trim.trimmed(free);
    }
    if (reclaimer.check()) {
      reclaims.inc();
      trimPending = true;
    }
  }, CHECK_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
