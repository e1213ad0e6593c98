import test from 'ava';
import { HeapReclaimer, MAX_RETRY_SKIP, exposeCollector, type Collect } from '../../proxy/src/core/heap-reclaim.js';
import { allocatorFreeBytes, releaseFreedMemory } from '../../agent/src/native.js';
import { TRIM_FREE_BYTES, TrimDecision } from '../../agent/src/memory-reclaim.js';

const MB = 2 ** 20;

/** A reclaimer over a heap size the test sets, counting the collections it asks for. */
function rig(growthMb: number, startMb: number) {
  let heap = startMb * MB;
  const asked: unknown[] = [];
  const collector: Collect = (options) => void asked.push(options);
  const reclaimer = new HeapReclaimer({ growthBytes: growthMb * MB, collector, heapBytes: () => heap });
  return { reclaimer, asked, setHeap: (mb: number) => (heap = mb * MB) };
}

test('a heap that grew past the bound since start is collected once, concurrently', (t) => {
  const { reclaimer, asked, setHeap } = rig(64, 40);
  setHeap(100);
  t.false(reclaimer.check(), 'growth of 60 MB is within the bound');
  setHeap(300);
  t.true(reclaimer.check());
  t.deepEqual(asked, [{ type: 'major', execution: 'async' }]);
  setHeap(45);
  t.false(reclaimer.check(), 'the check after a collection only takes the new baseline');
  t.is(reclaimer.reclaims, 1);
});

test('a heap that stays large because its data is live is collected again only after doubling intervals, at most once a minute', (t) => {
  const { reclaimer, asked, setHeap } = rig(64, 40);
  setHeap(200);
  t.true(reclaimer.check());
  setHeap(190); // the collection freed little: the data is live
  t.false(reclaimer.check(), 'the check after a collection only looks at what it left');
  // Checks between the collections asked for: 1, 2, 4, 8, then 12 (MAX_RETRY_SKIP) for good.
  const gaps: number[] = [];
  let since = 0;
  for (let i = 0; i < 200; i++) {
    if (reclaimer.check()) {
      gaps.push(since);
      since = 0;
      t.false(reclaimer.check(), 'settling');
    } else since++;
  }
  t.deepEqual(gaps.slice(0, 6), [1, 2, 4, 8, MAX_RETRY_SKIP, MAX_RETRY_SKIP]);
  t.true(gaps.every((gap) => gap <= MAX_RETRY_SKIP));
  t.is(asked.length, 1 + gaps.length);
});

// Regression: a collection asked for mid-burst, while the bodies were live, took the grown heap
// as the baseline, so the burst's garbage stayed for as long as traffic was quiet (CI, session 16).
test('a collection that ran while a burst was live does not make the grown heap the rest: the garbage is collected once the burst is over', (t) => {
  const { reclaimer, asked, setHeap } = rig(64, 40);
  setHeap(300);
  t.true(reclaimer.check(), 'mid-burst');
  setHeap(280);
  t.false(reclaimer.check(), 'the burst is still live');
  t.false(reclaimer.check(), 'one check skipped');
  t.true(reclaimer.check(), 'tried again, now that the burst is over');
  setHeap(50);
  t.false(reclaimer.check());
  setHeap(100);
  for (let i = 0; i < 5; i++) t.false(reclaimer.check(), '50 MB over the rest is within the bound');
  setHeap(120);
  t.true(reclaimer.check(), 'the rest is what the good collection left (50 MB), not the burst, and the retry interval started over');
  t.is(asked.length, 3);
});

test('the baseline follows the heap down when V8 shrank it itself', (t) => {
  const { reclaimer, setHeap } = rig(64, 120);
  setHeap(30);
  t.false(reclaimer.check());
  setHeap(100);
  t.true(reclaimer.check(), '70 MB over the lowest heap seen');
});

test('without a collector nothing is asked for', (t) => {
  let heap = 10 * MB;
  const reclaimer = new HeapReclaimer({ growthBytes: MB, collector: null, heapBytes: () => heap });
  heap = 500 * MB;
  t.false(reclaimer.check());
  t.is(reclaimer.reclaims, 0);
});

test.serial('the collector is reachable without --expose-gc, and collecting returns a burst of garbage to the system', async (t) => {
  const collect = exposeCollector();
  t.is(typeof collect, 'function');
  // Flat strings, each its own 4 MB in V8's heap (a repeat() would be a small tree of cons strings).
  let burst: string[] | null = Array.from({ length: 40 }, (_, i) => Buffer.alloc(4 * MB, 97 + (i % 26)).toString('latin1'));
  const grown = process.memoryUsage().rss;
  t.true(burst.length === 40);
  burst = null;
  collect!({ type: 'major', execution: 'async' });
  await new Promise((r) => setTimeout(r, 500));
  const after = process.memoryUsage().rss;
  t.true(after < grown - 100 * MB, `RSS ${Math.round(grown / MB)} MB → ${Math.round(after / MB)} MB`);
});

test.serial('releaseFreedMemory hands chunks glibc keeps after free back to the system', (t) => {
  const collect = exposeCollector()!;
  let buffers: Buffer[] | null = [];
  const keep: Buffer[] = [];
  // Below glibc's mmap threshold each buffer comes from an arena; the small survivors between them stop the arena's top from shrinking by itself.
  for (let i = 0; i < 2000; i++) {
    buffers.push(Buffer.alloc(60 * 1024, 1));
    if (i % 50 === 0) keep.push(Buffer.alloc(100, 1));
  }
  const allocated = process.memoryUsage().rss;
  buffers = null;
  collect({ type: 'major', execution: 'async' });
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      t.true(releaseFreedMemory(), 'glibc: malloc_trim is there');
      const trimmed = process.memoryUsage().rss;
      t.true(trimmed < allocated - 64 * MB, `RSS ${Math.round(allocated / MB)} MB → ${Math.round(trimmed / MB)} MB`);
      t.is(keep.length, 40);
      resolve();
    }, 300),
  );
});

test.serial('allocatorFreeBytes sees chunks freed and kept; a trim is due when they grow, not while they stay', (t) => {
  const collect = exposeCollector()!;
  const before = allocatorFreeBytes();
  t.not(before, null, 'glibc: mallinfo2 is there');
  const decision = new TrimDecision(before!);
  let buffers: Buffer[] | null = [];
  const keep: Buffer[] = [];
  for (let i = 0; i < 1000; i++) {
    buffers.push(Buffer.alloc(60 * 1024, 1));
    if (i % 50 === 0) keep.push(Buffer.alloc(100, 1));
  }
  // Allocation reuses what earlier tests freed: the level falls, and the mark with it.
  const allocated = allocatorFreeBytes()!;
  t.false(decision.due(allocated), 'nothing freed yet');
  buffers = null;
  collect({ type: 'major', execution: 'async' });
  return new Promise<void>((resolve) =>
    setTimeout(() => {
      const freed = allocatorFreeBytes()!;
      t.true(freed - allocated > 32 * MB, `freed and kept: ${Math.round(allocated / MB)} → ${Math.round(freed / MB)} MB`);
      t.true(decision.due(freed));
      releaseFreedMemory();
      decision.trimmed(allocatorFreeBytes()!);
      // The chunks stay free in the arena after a trim: the level is unchanged, no second trim is due.
      t.false(decision.due(allocatorFreeBytes()!));
      // Reused, then freed again: the growth from the lower mark counts.
      t.false(decision.due(1 * MB));
      t.true(decision.due(1 * MB + TRIM_FREE_BYTES + 1));
      t.is(keep.length, 20);
      resolve();
    }, 300),
  );
});
