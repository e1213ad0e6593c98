import type { Migration } from './migration.js';

// What each node last reported of itself (docs/fleet.md, "What else is shared"): the agents it
// saw (registered, and shadow agents its node enforcement found) and its `bpf status`. One row
// per node, replaced by each report; nothing decides from it, operators read it.
const sql = `
CREATE TABLE node_reports (
  node_id text PRIMARY KEY,
  seen_agents jsonb NOT NULL DEFAULT '[]',
  bpf_status jsonb,
  reported_at timestamptz NOT NULL
);
`;

export const migration: Migration = { version: 5, name: 'node reports: agents seen and bpf status per node', sql };
