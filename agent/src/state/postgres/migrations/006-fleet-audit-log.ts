import type { Migration } from './migration.js';

// The fleet log (docs/fleet.md, "One audit record"): every node checkpoint the control plane
// received, in the order received, as the leaves of a Merkle tree whose checkpoints the control
// plane signs with a key of its own (sealed with ALTRACE_FLEET_CA_KEY, like the CA's). A node
// checkpoint taken out of the store afterwards no longer matches a signed fleet checkpoint.
const sql = `
CREATE TABLE fleet_audit_key (
  id smallint PRIMARY KEY CHECK (id = 1),
  key_sealed bytea NOT NULL,
  verifier_key text NOT NULL,
  created_at timestamptz NOT NULL
);

CREATE TABLE fleet_audit_entries (
  seq bigint PRIMARY KEY CHECK (seq >= 0),
  log text NOT NULL,
  node_id text NOT NULL,
  note text NOT NULL,
  received_at timestamptz NOT NULL
);

CREATE TABLE fleet_audit_checkpoints (
  size bigint PRIMARY KEY,
  note text NOT NULL,
  signed_at timestamptz NOT NULL
);
`;

export const migration: Migration = { version: 6, name: 'fleet audit log: node checkpoints under signed fleet checkpoints', sql };
