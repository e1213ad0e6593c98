// How long a test may wait for something: its nominal time, scaled by how loaded the machine is
// at the moment it waits. The suite shares two cores with whatever else runs (other test files,
// a load generator), and a wait sized for an idle machine fails on a busy one without anything
// being wrong. Waits only: what a test asserts about order (refused after the acknowledgement)
// does not scale.
import { availableParallelism, loadavg } from 'node:os';

/** ALTRACE_TEST_PATIENCE multiplies every wait (e.g. 3 on a slow VM). */
const FACTOR = (() => {
  const v = Number(process.env.ALTRACE_TEST_PATIENCE ?? '1');
  return Number.isFinite(v) && v > 0 ? v : 1;
})();

/** `ms` scaled by the run-queue length per core (1×–4×) and ALTRACE_TEST_PATIENCE. */
export function patience(ms: number): number {
  const perCore = loadavg()[0]! / availableParallelism();
  return Math.round(ms * FACTOR * Math.min(4, Math.max(1, perCore)));
}

/** The chain's stage timeout under test: the production default (2 s) stretched for a loaded machine. */
export const STAGE_TIMEOUT_MS = 10_000;
