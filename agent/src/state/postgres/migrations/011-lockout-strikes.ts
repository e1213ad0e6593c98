import type { Migration } from './migration.js';

// Lockouts in a row per source (docs/security.md, "Operator tokens"): each one that follows
// another before the bucket refilled doubles the wait.
const sql = `
ALTER TABLE auth_failures ADD COLUMN strikes integer NOT NULL DEFAULT 0;
`;

export const migration: Migration = { version: 11, name: 'growing lockouts: strikes per source', sql };
