import type { Migration } from './migration.js';

// Who belongs to the fleet: the control plane's CA (one row, its key sealed with
// ALTRACE_FLEET_CA_KEY), the nodes it enrolled, and the tokens a node may enroll with (hashes).
const sql = `
CREATE TABLE fleet_ca (
  id smallint PRIMARY KEY CHECK (id = 1),
  cert_pem text NOT NULL,
  key_sealed bytea NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE nodes (
  id text PRIMARY KEY,
  name text NOT NULL,
  enrolled_at timestamptz NOT NULL,
  cert_serial text NOT NULL,
  cert_expires_at timestamptz NOT NULL,
  last_contact_at timestamptz,
  version text,
  applied_version bigint NOT NULL DEFAULT 0,
  removed_at timestamptz
);
CREATE INDEX nodes_name ON nodes (name);

CREATE TABLE enrollment_tokens (
  hash text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz,
  created_by text NOT NULL
);
`;

export const migration: Migration = { version: 2, name: 'fleet identity: CA, nodes, enrollment tokens', sql };
