import type { Migration } from './migration.js';

// One audit record for the fleet (docs/fleet.md, "One audit record"). Each node ships its own
// signed Merkle log; a log is named by its verifier key (a node whose state directory was
// rebuilt starts a new log under a new key, with sequence numbers from 0 again).
//
// audit_logs: one row per shipped log, with the next sequence number it needs (everything
// before it is stored, without a gap). audit_batches: the records as the node's file holds them
// (each a 4-byte length, then the record), one row per batch from where the log stood: a batch
// sent twice is stored once, and storing costs one row per second per node, not one per record. audit_forks: a record received again with other bytes than the stored
// one (the node's log was rewritten after shipping): evidence, never applied. audit_checkpoints:
// every signed checkpoint a node sent, as it sent it (verified when the fleet log is verified).
const sql = `
CREATE TABLE audit_logs (
  log text PRIMARY KEY,
  node_id text NOT NULL,
  next_seq bigint NOT NULL DEFAULT 0,
  first_at timestamptz NOT NULL,
  last_at timestamptz NOT NULL
);
CREATE INDEX audit_logs_node ON audit_logs (node_id);

CREATE TABLE audit_batches (
  log text NOT NULL REFERENCES audit_logs (log),
  first_seq bigint NOT NULL CHECK (first_seq >= 0),
  count integer NOT NULL CHECK (count > 0),
  framed bytea NOT NULL,
  PRIMARY KEY (log, first_seq)
);

CREATE TABLE audit_forks (
  log text NOT NULL REFERENCES audit_logs (log),
  seq bigint NOT NULL,
  record bytea NOT NULL,
  received_at timestamptz NOT NULL
);

CREATE TABLE audit_checkpoints (
  log text NOT NULL REFERENCES audit_logs (log),
  size bigint NOT NULL,
  note text NOT NULL,
  received_at timestamptz NOT NULL,
  PRIMARY KEY (log, size, note)
);
`;

export const migration: Migration = { version: 4, name: 'fleet audit: logs shipped by nodes', sql };
