// Kept apart from test/fixtures/postgres.ts, which the bench imports too (ava only loads in test files).
import { suiteOrSkip } from '../bpf/suite.js';
import test from 'ava';
import { POSTGRES_SKIP_REASON, startPostgres, type PostgresServer } from '../fixtures/postgres.js';

/** Registers a file's PostgreSQL tests, or one skipped test saying why they cannot run here. */
export function postgresSuite(register: () => void): void {
  suiteOrSkip('PostgreSQL tests', POSTGRES_SKIP_REASON, register);
}

/** One server for a file's tests: started before them, handed to `use`, stopped after them (also when one fails). */
export function sharedPostgres(use: (server: PostgresServer) => void): void {
  let server: PostgresServer | undefined;
  test.before(async () => {
    server = await startPostgres();
    use(server);
  });
  test.after.always(async () => {
    await server?.stop();
  });
}
