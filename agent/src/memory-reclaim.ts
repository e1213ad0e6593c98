import { Counter } from 'prom-client';
import { HeapReclaimer } from '../../proxy/src/core/heap-reclaim.js';
import type { ProxyMetrics } from '../../proxy/src/metrics.js';
import { releaseFreedMemory } from './native.js';

/** Often enough that a quiet agent is back to size within seconds; a check is one heap-statistics call. */
const CHECK_EVERY_MS = 5_000;

export interface HeapReclaim {
  stop(): void;
}

/**
 * The agent's own memory after heavy inputs (limits.heap_reclaim_mb; null when 0): a full
 * collection when the heap has grown past the bound, then, once it has run, the allocator's
 * freed pages back to the system. Scan workers hold their own heaps and end after a minute
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
  let trimPending = false;
  const timer = setInterval(() => {
    // The collection asked for at the last check has run by now: its freed chunks can go back.
    if (trimPending) {
      trimPending = false;
      releaseFreedMemory();
    }
    if (reclaimer.check()) {
      reclaims.inc();
      trimPending = true;
    }
  }, CHECK_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
