// Applies the numbered migrations at start, all pending ones in one transaction, under an
// advisory lock: of replicas starting together one migrates, the others wait for its commit
// and then find the schema current. A database migrated past what this code knows is refused.
import type { Pool, PoolClient } from 'pg';
import { inTransaction } from './transaction.js';
import { SchemaTooNewError } from './errors.js';
import { MIGRATIONS, type Migration } from './migrations/index.js';

/** pg_advisory_xact_lock key of the migrator ('altr' 0001): held until the migrating transaction ends. */
const MIGRATION_LOCK = 0x616c7472_0001n;

export interface MigrationResult {
  /** The schema version found before migrating (0: an empty database). */
  from: number;
  /** The version after: the newest migration this code knows. */
  to: number;
  /** Versions applied by this call (empty when another replica had already migrated). */
  applied: number[];
}

/** The newest schema version this code knows. */
export function knownVersion(migrations: readonly Migration[] = MIGRATIONS): number {
  return migrations.at(-1)?.version ?? 0;
}

function checkSequence(migrations: readonly Migration[]): void {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration ${m.name} has version ${m.version}, expected ${i + 1}: migrations are numbered 1, 2, 3 ... without gaps`);
  });
}

/** The version the database is at (0 when it has no schema_version table yet). */
export async function schemaVersion(db: Pool | PoolClient): Promise<number> {
  const exists = await db.query<{ t: string | null }>("SELECT to_regclass('schema_version')::text AS t");
  if (exists.rows[0]?.t == null) return 0;
  const r = await db.query<{ v: number }>('SELECT coalesce(max(version), 0) AS v FROM schema_version');
  return r.rows[0]!.v;
}

/** Brings the database at `url` to the newest known version; throws SchemaTooNewError when it is already past it. */
export async function migrate(pool: Pool, url: string, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationResult> {
  checkSequence(migrations);
  const known = knownVersion(migrations);
  return inTransaction(pool, url, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    // Under the lock: a replica that waited reads what the one before it committed.
    await client.query(`CREATE TABLE IF NOT EXISTS schema_version (
      version integer PRIMARY KEY CHECK (version > 0),
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const from = await schemaVersion(client);
    if (from > known) throw new SchemaTooNewError(from, known);
    const applied: number[] = [];
    for (const m of migrations.slice(from)) {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_version (version, name) VALUES ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return { from, to: known, applied };
  });
}
