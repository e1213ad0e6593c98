import type { Migration } from './migration.js';

// Operators' client certificates (docs/security.md, "Mutual TLS"): those the fleet CA issued, and
// the serials revoked, which every replica reads back within a second.
const sql = `
CREATE TABLE operator_certificates (
  serial text PRIMARY KEY,
  name text,
  role text,
  team text,
  not_after timestamptz,
  issued_at timestamptz,
  issued_by text,
  revoked_at timestamptz,
  revoked_by text,
  reason text
);
`;

export const migration: Migration = { version: 10, name: 'operator client certificates and their revocation', sql };
