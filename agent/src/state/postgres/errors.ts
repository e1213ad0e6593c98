// Errors of the PostgreSQL store, each with a stable code (documented in docs/postgres.md).
import { AltraceError } from '../../errors.js';

/** The database URL is not a postgres:// URL the client can use. */
export class DatabaseUrlError extends AltraceError {
  constructor(message: string) {
    super('ALT_DATABASE_URL_INVALID', message);
  }
}

/** The server could not be reached or refused the connection; the message names the URL without its password. */
export class DatabaseUnreachableError extends AltraceError {
  constructor(
    message: string,
    readonly url: string,
  ) {
    super('ALT_DATABASE_UNREACHABLE', message);
  }
}

/**
 * The database holds a schema newer than this code knows: a newer replica migrated it. Running
 * on would read and write tables whose meaning this code does not know, so it refuses to start.
 */
export class SchemaTooNewError extends AltraceError {
  constructor(
    readonly found: number,
    readonly known: number,
  ) {
    super('ALT_SCHEMA_TOO_NEW', `the database schema is at version ${found}, newer than the ${known} this Altrace knows: upgrade Altrace (never downgrade a migrated database)`);
  }
}

/** A lease call's argument is not one the store can act on (a programming error in its caller); `field` names it. */
export class LeaseInvalidError extends AltraceError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('ALT_LEASE_INVALID', message);
  }
}
