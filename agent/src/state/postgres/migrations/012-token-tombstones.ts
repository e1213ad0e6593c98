import type { Migration } from './migration.js';

// Deleted operator tokens, by hash (docs/security.md, "Operator tokens"): a later use of one is
// reported as a revoked token used (ALT_TOKEN_REVOKED), a security event, not as a guess.
const sql = `
CREATE TABLE operator_token_tombstones (
  hash text PRIMARY KEY,
  name text NOT NULL,
  deleted_at timestamptz NOT NULL
);
`;

export const migration: Migration = { version: 12, name: 'deleted operator tokens kept as tombstones', sql };
