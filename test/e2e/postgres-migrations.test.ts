// The PostgreSQL schema is versioned: numbered migrations, applied at start in one transaction
// under an advisory lock, never run against a schema newer than the code. A real server throughout.
import test from 'ava';
import { Pool } from 'pg';
import { MIGRATIONS, migrate, PgStore, schemaVersion, type Migration } from '../../agent/src/state/postgres/index.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';

postgresSuite(() => {
  let pg!: PostgresServer;
  let n = 0;
  sharedPostgres((server) => (pg = server));

  /** A fresh, empty database and a pool on it, closed when the test ends. */
  async function emptyDatabase(t: { teardown(fn: () => Promise<void>): void }): Promise<{ url: string; pool: Pool }> {
    const url = await pg.createDatabase(`migrations_${++n}`);
    const pool = new Pool({ connectionString: url, max: 4 });
    // An idle connection the shared server drops as it stops (57P01) is an 'error' on the pool: unheard, it ends the test worker.
    pool.on('error', () => {});
    t.teardown(() => pool.end());
    return { url, pool };
  }

  async function tables(pool: Pool): Promise<string[]> {
    const r = await pool.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename");
    return r.rows.map((row) => row.t);
  }

  test('on an empty database every migration is applied, recorded in schema_version, and the change log starts at 0', async (t) => {
    const { url, pool } = await emptyDatabase(t);
    t.is(await schemaVersion(pool), 0);
    const result = await migrate(pool, url);
    t.deepEqual(result, { from: 0, to: MIGRATIONS.length, applied: MIGRATIONS.map((m) => m.version) });
    t.deepEqual(await tables(pool), ['agent_levels', 'approvals', 'audit_batches', 'audit_checkpoints', 'audit_forks', 'audit_logs', 'auth_failures', 'budget_leases', 'budget_spend', 'budgets', 'change_head', 'changes', 'enrollment_tokens', 'fleet_audit_checkpoints', 'fleet_audit_entries', 'fleet_audit_key', 'fleet_ca', 'keys', 'kill_switches', 'mcp_pin_proposals', 'mcp_pins', 'node_reports', 'nodes', 'operator_certificates', 'operator_token_tombstones', 'operator_tokens', 'schema_version', 'spend']);
    const recorded = await pool.query<{ version: number; name: string }>('SELECT version, name FROM schema_version ORDER BY version');
    t.deepEqual(recorded.rows, MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    t.is((await pool.query('SELECT version FROM change_head')).rows[0].version, '0');
  });

  test('migrating again changes nothing: the second start finds the schema current', async (t) => {
    const { url, pool } = await emptyDatabase(t);
    await migrate(pool, url);
    t.deepEqual(await migrate(pool, url), { from: MIGRATIONS.length, to: MIGRATIONS.length, applied: [] });
    t.is((await pool.query('SELECT count(*)::int AS n FROM schema_version')).rows[0].n, MIGRATIONS.length);
  });

  test('two replicas migrating at once: one applies, the other waits on the lock and then finds the schema current', async (t) => {
    const { url } = await emptyDatabase(t);
    // A slow last step keeps the first migrator inside its transaction while the second arrives;
    // without the advisory lock both would create the same tables and one would fail.
    const slow: Migration = { version: MIGRATIONS.length + 1, name: 'slow', sql: 'SELECT pg_sleep(0.5); CREATE TABLE slow_marker (x int);' };
    const replicas = [new Pool({ connectionString: url, max: 1 }), new Pool({ connectionString: url, max: 1 })];
    for (const p of replicas) p.on('error', () => {});
    t.teardown(() => Promise.all(replicas.map((p) => p.end())).then(() => {}));
    const results = await Promise.all(replicas.map((p) => migrate(p, url, [...MIGRATIONS, slow])));
    const applied = results.map((r) => r.applied.length).sort();
    t.deepEqual(applied, [0, slow.version], 'exactly one replica applied the migrations');
    t.true(results.every((r) => r.to === slow.version));
    t.is(results.find((r) => r.applied.length === 0)!.from, slow.version, 'the waiting replica saw the committed version');
    t.is(await schemaVersion(replicas[0]!), slow.version);
  });

  test('a migration that fails leaves the database at the version before it, with nothing of it applied', async (t) => {
    const { url, pool } = await emptyDatabase(t);
    await migrate(pool, url);
    const broken: Migration = { version: MIGRATIONS.length + 1, name: 'broken', sql: 'CREATE TABLE half_done (x int); SELECT * FROM no_such_table;' };
    await t.throwsAsync(migrate(pool, url, [...MIGRATIONS, broken]), { message: /no_such_table/ });
    t.is(await schemaVersion(pool), MIGRATIONS.length);
    t.false((await tables(pool)).includes('half_done'));
  });

  test('a database migrated past what this code knows is refused with ALT_SCHEMA_TOO_NEW, and left as it was', async (t) => {
    const { url, pool } = await emptyDatabase(t);
    await migrate(pool, url);
    const future = MIGRATIONS.length + 1;
    await pool.query("INSERT INTO schema_version (version, name) VALUES ($1, 'from a newer release')", [future]);
    const err = await t.throwsAsync(PgStore.open(url));
    t.is((err as { code?: string }).code, 'ALT_SCHEMA_TOO_NEW');
    t.regex(err!.message, new RegExp(`version ${future}, newer than the ${MIGRATIONS.length}`));
    t.is(await schemaVersion(pool), future);
  });

  test('migrations are numbered 1, 2, 3 without gaps: a list that skips a number is refused before touching the database', async (t) => {
    const { url, pool } = await emptyDatabase(t);
    const gap: Migration = { version: MIGRATIONS.length + 2, name: 'gap', sql: 'CREATE TABLE gap (x int);' };
    await t.throwsAsync(migrate(pool, url, [...MIGRATIONS, gap]), { message: /expected \d+: migrations are numbered/ });
    t.is(await schemaVersion(pool), 0);
  });

  test('a server that cannot be reached is ALT_DATABASE_UNREACHABLE naming the URL without its password', async (t) => {
    const closed = `postgres://altrace:s3cret-pw@127.0.0.1:1/altrace`;
    const err = await t.throwsAsync(PgStore.open(closed, { connectTimeoutMs: 2000 }));
    t.is((err as { code?: string }).code, 'ALT_DATABASE_UNREACHABLE');
    t.true(err!.message.includes('postgres://altrace@127.0.0.1:1/altrace'), err!.message);
    t.false(err!.message.includes('s3cret-pw'));
  });

  test('a wrong password is ALT_DATABASE_UNREACHABLE with the server\'s reason, and the password given is not repeated', async (t) => {
    const wrong = new URL(pg.url);
    wrong.password = 'not-the-password';
    const err = await t.throwsAsync(PgStore.open(wrong.toString()));
    t.is((err as { code?: string }).code, 'ALT_DATABASE_UNREACHABLE');
    t.regex(err!.message, /password authentication failed/);
    t.false(err!.message.includes('not-the-password'));
  });

  test('a URL that is not postgres:// is ALT_DATABASE_URL_INVALID, naming the scheme and never the password', async (t) => {
    for (const [url, why] of [
      ['mysql://root:pw-in-url@db:3306/x', /scheme mysql:, expected postgres:\/\//],
      ['not a url', /not a URL/],
      ['postgres:///only-a-path', /names no host/],
    ] as const) {
      const err = await t.throwsAsync(PgStore.open(url));
      t.is((err as { code?: string }).code, 'ALT_DATABASE_URL_INVALID', url);
      t.regex(err!.message, why);
      t.false(err!.message.includes('pw-in-url'));
    }
  });
});
