// The PostgreSQL store's errors: stable codes, each documented; URLs in them never carry a password.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../agent/src/paths.js';
import { DatabaseUnreachableError, DatabaseUrlError, LeaseInvalidError, redactUrl, SchemaTooNewError } from '../../agent/src/state/postgres/index.js';

test('every error code of the PostgreSQL store is in the table of docs/postgres.md', (t) => {
  const doc = readFileSync(join(packageRoot, 'docs/postgres.md'), 'utf8');
  const codes = [new DatabaseUrlError('x').code, new DatabaseUnreachableError('x', 'u').code, new SchemaTooNewError(2, 1).code, new LeaseInvalidError('ttlMs', 'x').code];
  t.deepEqual(codes, ['ALT_DATABASE_URL_INVALID', 'ALT_DATABASE_UNREACHABLE', 'ALT_SCHEMA_TOO_NEW', 'ALT_LEASE_INVALID']);
  t.deepEqual(codes.filter((c) => !doc.includes(`| \`${c}\` |`)), []);
});

test('redactUrl drops the password from the userinfo and from the query, and keeps the rest', (t) => {
  t.is(redactUrl('postgres://altrace:s3cret@db.internal:5432/fleet'), 'postgres://altrace@db.internal:5432/fleet');
  t.is(redactUrl('postgresql://db:5432/fleet?user=a&password=s3cret&sslmode=require'), 'postgresql://db:5432/fleet?user=a&sslmode=require');
  t.is(redactUrl('postgres://altrace@db/fleet'), 'postgres://altrace@db/fleet');
  t.is(redactUrl('::not a url s3cret'), '<not a URL>');
});
