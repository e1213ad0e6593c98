// How a BPF test file registers its tests: all of them where BPF can run, else one that says why.
import test from 'ava';
import { SKIP_REASON } from './rig.js';

/** Registers a file's tests, or, when BPF cannot run here, one passing test that says why. */
export function bpfSuite(register: () => void): void {
  if (SKIP_REASON === null) return register();
  console.error(`test/bpf: skipped: ${SKIP_REASON}`);
  test(`skipped (BPF unavailable: ${SKIP_REASON})`, (t) => {
    t.log(`skipped: ${SKIP_REASON}`);
    t.pass();
  });
}
