import type { Migration } from './migration.js';

// MCP tool pins approved by operators after a change (docs/mcp.md, "Approving a change"): the
// proposal an mcp-pin approval carries, and the pin it became. Beside the policy's own pins.
const sql = `
ALTER TABLE approvals DROP CONSTRAINT approvals_kind_check;
ALTER TABLE approvals ADD CONSTRAINT approvals_kind_check CHECK (kind IN ('tool', 'model', 'mcp-pin'));
CREATE TABLE mcp_pin_proposals (
  approval_id text PRIMARY KEY REFERENCES approvals (id),
  server text NOT NULL,
  tool text NOT NULL,
  model text NOT NULL,
  structure text NOT NULL,
  read_only boolean,
  destructive boolean,
  change text NOT NULL CHECK (change IN ('changed', 'new'))
);
CREATE TABLE mcp_pins (
  server text NOT NULL,
  tool text NOT NULL,
  model text NOT NULL,
  structure text NOT NULL,
  read_only boolean,
  destructive boolean,
  approval_id text NOT NULL,
  approved_by text NOT NULL,
  approved_at timestamptz NOT NULL,
  PRIMARY KEY (server, tool)
);
`;

export const migration: Migration = { version: 7, name: 'mcp tool pins approved after a change, and their proposals', sql };
