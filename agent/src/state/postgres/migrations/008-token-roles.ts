import type { Migration } from './migration.js';

// Operator roles and expiry (docs/security.md, "Roles"): a token carries one role; tokens from
// before have none, and keep the role their team implies (admin without a team, operator with
// one). A token may expire (ttl_s when issued); null: never.
const sql = `
ALTER TABLE operator_tokens ADD COLUMN role text CHECK (role IN ('admin', 'operator', 'viewer', 'auditor', 'approver'));
ALTER TABLE operator_tokens ADD COLUMN expires_at timestamptz;
`;

export const migration: Migration = { version: 8, name: 'operator token roles and expiry', sql };
