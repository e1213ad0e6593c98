/**
 * One numbered step of the schema. A migration, once released, is never edited: a change is a
 * new file with the next number. SQL lives in TypeScript because tsc copies no .sql into dist/.
 */
export interface Migration {
  version: number;
  name: string;
  /** Runs inside the migrator's transaction: all of it, with its schema_version row, or none. */
  sql: string;
}
