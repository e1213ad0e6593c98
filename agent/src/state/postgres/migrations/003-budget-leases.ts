import type { Migration } from './migration.js';

// Budgets across nodes (docs/fleet.md, "Budgets: leases"). A node spends only what it leased;
// a lease is a slice of one budget window, granted against the window's settled spend plus every
// lease not yet returned.
//
// budget_spend is that settled spend, one row per budget window. The spend table of 001 does not
// fit: it is per-day attribution (team, agent, key, function, model) written for reports, while a
// lease comes back as one amount for the whole window, and an expired lease is charged in full
// with nothing to attribute it to. The row is also what a grant locks: every grant, return and
// expiry of one window queues on it, so the check and the insert cannot interleave.
// "period" and not "window", which is a reserved word in SQL.
const sql = `
CREATE TABLE budget_spend (
  scope text NOT NULL CHECK (scope IN ('key', 'agent', 'team', 'cost_center')),
  target text NOT NULL,
  period text NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly')),
  window_start date NOT NULL,
  usd numeric NOT NULL DEFAULT 0 CHECK (usd >= 0),
  PRIMARY KEY (scope, target, period, window_start)
);

-- No foreign key to nodes: a lease outlives the removal of its node, as evidence of what it took.
CREATE TABLE budget_leases (
  id text PRIMARY KEY,
  scope text NOT NULL CHECK (scope IN ('key', 'agent', 'team', 'cost_center')),
  target text NOT NULL,
  period text NOT NULL CHECK (period IN ('daily', 'weekly', 'monthly')),
  window_start date NOT NULL,
  node_id text NOT NULL,
  usd numeric NOT NULL CHECK (usd > 0),
  granted_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > granted_at),
  returned_at timestamptz,
  -- What was charged to budget_spend when the lease closed: the node's report, or all of usd when it expired.
  spent_usd numeric CHECK (spent_usd >= 0),
  expired boolean NOT NULL DEFAULT false,
  CHECK ((returned_at IS NULL) = (spent_usd IS NULL)),
  CHECK (NOT expired OR returned_at IS NOT NULL)
);
-- Outstanding leases of a window (every grant sums them), of a node, and by expiry (the sweep).
CREATE INDEX budget_leases_open_by_window ON budget_leases (scope, target, period, window_start) WHERE returned_at IS NULL;
CREATE INDEX budget_leases_open_by_node ON budget_leases (node_id) WHERE returned_at IS NULL;
CREATE INDEX budget_leases_open_by_expiry ON budget_leases (expires_at) WHERE returned_at IS NULL;
`;

export const migration: Migration = { version: 3, name: 'budget leases and per-window settled spend', sql };
