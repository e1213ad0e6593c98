// Kept apart from test/fixtures/postgres.ts, which the bench imports too (ava only loads in test files).
import { suiteOrSkip } from '../bpf/suite.js';
import { POSTGRES_SKIP_REASON } from '../fixtures/postgres.js';

/** Registers a file's PostgreSQL tests, or one skipped test saying why they cannot run here. */
export function postgresSuite(register: () => void): void {
  suiteOrSkip('PostgreSQL tests', POSTGRES_SKIP_REASON, register);
}
