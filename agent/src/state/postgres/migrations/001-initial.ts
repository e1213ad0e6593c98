import type { Migration } from './migration.js';

// The single-node store's tables (agent/src/state/sqlite.ts) with PostgreSQL's types, plus the
// fleet change log. Times are timestamptz (the code's epoch milliseconds convert exactly);
// money is numeric, so spend adds up exactly however many small amounts are summed.
const sql = `
CREATE TABLE keys (
  id text PRIMARY KEY,
  hash text NOT NULL UNIQUE,
  prefix text NOT NULL,
  agent text NOT NULL,
  team text NOT NULL,
  models text[] NOT NULL DEFAULT '{}',
  providers text[] NOT NULL DEFAULT '{}',
  cost_center text,
  expires_at timestamptz,
  revoked_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX keys_team ON keys (team);
CREATE INDEX keys_agent ON keys (agent);

CREATE TABLE operator_tokens (
  hash text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  team text,
  created_at timestamptz NOT NULL
);

CREATE TABLE kill_switches (
  scope text NOT NULL CHECK (scope IN ('global', 'team', 'agent')),
  target text NOT NULL CHECK (target <> ''),
  reason text,
  engaged_by text NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (scope, target),
  CHECK ((scope = 'global') = (target = '*'))
);

-- An agent at 'normal' has no row.
CREATE TABLE agent_levels (
  agent text PRIMARY KEY,
  level text NOT NULL CHECK (level IN ('warning', 'throttle', 'quarantine', 'block', 'kill')),
  set_by text NOT NULL,
  reason text,
  since timestamptz NOT NULL
);

CREATE TABLE budgets (
  scope text NOT NULL CHECK (scope IN ('key', 'agent', 'team', 'cost_center')),
  target text NOT NULL,
  daily numeric CHECK (daily >= 0),
  weekly numeric CHECK (weekly >= 0),
  monthly numeric CHECK (monthly >= 0),
  set_by text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (scope, target)
);

-- '' stands for "none" in cost_center and fn, so a row's identity is a plain primary key
-- (NULLs in a unique key are distinct from each other before PostgreSQL 15).
CREATE TABLE spend (
  day date NOT NULL,
  team text NOT NULL,
  agent text NOT NULL,
  key_id text NOT NULL,
  cost_center text NOT NULL,
  fn text NOT NULL,
  provider text NOT NULL,
  model text NOT NULL,
  usd numeric NOT NULL CHECK (usd >= 0),
  requests bigint NOT NULL CHECK (requests >= 0),
  input_tokens bigint NOT NULL CHECK (input_tokens >= 0),
  output_tokens bigint NOT NULL CHECK (output_tokens >= 0),
  PRIMARY KEY (day, team, agent, key_id, cost_center, fn, provider, model)
);
CREATE INDEX spend_team_day ON spend (team, day);

CREATE TABLE approvals (
  id text PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  request_id text NOT NULL,
  agent text NOT NULL,
  team text NOT NULL,
  key_id text NOT NULL,
  run text,
  contract text NOT NULL,
  rule text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('tool', 'model')),
  subject text NOT NULL,
  decided_at timestamptz,
  decided_by text,
  reason text,
  CHECK ((status = 'pending') = (decided_at IS NULL))
);
CREATE INDEX approvals_by_status ON approvals (status, created_at DESC);
CREATE INDEX approvals_by_team ON approvals (team, created_at DESC);

-- The fleet change log: every committed state change, in commit order. change_head holds the
-- last version; a writer locks it for the rest of its transaction, so versions are gapless
-- and a reader that has seen version n has seen every change up to n.
CREATE TABLE change_head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  version bigint NOT NULL CHECK (version >= 0)
);
INSERT INTO change_head (one, version) VALUES (true, 0);

CREATE TABLE changes (
  version bigint PRIMARY KEY CHECK (version > 0),
  kind text NOT NULL,
  payload jsonb NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
`;

export const migration: Migration = { version: 1, name: 'initial', sql };
