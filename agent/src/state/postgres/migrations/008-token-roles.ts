import type { Migration } from './migration.js';

// Operator roles (docs/security.md, "Roles"): a token carries one; tokens from before have none,
// and keep the role their team implies (admin without a team, operator with one).
const sql = `
ALTER TABLE operator_tokens ADD COLUMN role text CHECK (role IN ('admin', 'operator', 'viewer', 'auditor', 'approver'));
`;

export const migration: Migration = { version: 8, name: 'operator token roles', sql };
