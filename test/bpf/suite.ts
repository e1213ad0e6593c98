// How a BPF test file registers its tests: all of them where BPF can run, else one skipped
// test whose title says why (ava counts and lists it as skipped, never as passed).
import test from 'ava';
import { SKIP_REASON } from './rig.js';

/** Registers a file's tests, or, when `why` says they cannot run here, a skip that says so. */
export function suiteOrSkip(what: string, why: string | null, register: () => void): void {
  if (why === null) return register();
  console.error(`${what}: skipped: ${why}`);
  test.skip(`${what} (cannot run here: ${why})`, () => {});
}

/** Registers a file's tests where BPF can run. */
export function bpfSuite(register: () => void): void {
  suiteOrSkip('BPF tests', SKIP_REASON, register);
}
