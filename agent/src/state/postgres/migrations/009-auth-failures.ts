import type { Migration } from './migration.js';

// Failed operator tokens per source address, shared by the control-plane replicas
// (docs/security.md, "Operator tokens"): one token bucket per source.
const sql = `
CREATE TABLE auth_failures (
  source text PRIMARY KEY,
  tokens double precision NOT NULL,
  at timestamptz NOT NULL
);
`;

export const migration: Migration = { version: 9, name: 'failed operator tokens per source, shared by replicas', sql };
