import { roleOf, type Role } from '../../services/roles.js';
// Rows as pg returns them, and their conversion to the store's types: timestamptz comes back as
// a Date (the code's epoch milliseconds convert exactly), numeric and bigint as strings.
import type { AgentLevel, Budget, BudgetScope, KillScope, KillSwitch, Level, VirtualKey } from '../../../../proxy/src/index.js';
import type { ApprovalColumns, ApprovalRecord, ApprovalStatus, OperatorToken } from '../store.js';

export function toDate(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function toMs(d: Date | null): number | null {
  return d === null ? null : d.getTime();
}

function toUsd(v: string | null): number | null {
  return v === null ? null : Number(v);
}

export interface KeyRow {
  id: string;
  hash: string;
  prefix: string;
  agent: string;
  team: string;
  models: string[];
  providers: string[];
  cost_center: string | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Date;
}

export function toKey(r: KeyRow): VirtualKey {
  return {
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    agent: r.agent,
    team: r.team,
    models: r.models,
    providers: r.providers,
    costCenter: r.cost_center,
    expiresAt: toMs(r.expires_at),
    revokedAt: toMs(r.revoked_at),
    createdAt: r.created_at.getTime(),
  };
}

export interface TokenRow {
  hash: string;
  name: string;
  team: string | null;
  role: Role | null;
  expires_at: Date | null;
  created_at: Date;
}

export function toToken(r: TokenRow): OperatorToken {
  return { name: r.name, team: r.team, role: roleOf(r), expiresAt: r.expires_at ? r.expires_at.getTime() : null, createdAt: r.created_at.getTime() };
}

export interface KillRow {
  scope: KillScope;
  target: string;
  reason: string | null;
  engaged_by: string;
  created_at: Date;
}

export function toKill(r: KillRow): KillSwitch {
  return { scope: r.scope, target: r.target, reason: r.reason, by: r.engaged_by, createdAt: r.created_at.getTime() };
}

export interface LevelRow {
  agent: string;
  level: Level;
  set_by: string;
  reason: string | null;
  since: Date;
}

export function toLevel(r: LevelRow): AgentLevel {
  return { agent: r.agent, level: r.level, setBy: r.set_by, reason: r.reason, since: r.since.getTime() };
}

export interface BudgetRow {
  scope: BudgetScope;
  target: string;
  daily: string | null;
  weekly: string | null;
  monthly: string | null;
  set_by: string;
  updated_at: Date;
}

export function toBudget(r: BudgetRow): Budget {
  return {
    scope: r.scope,
    target: r.target,
    limits: { daily: toUsd(r.daily), weekly: toUsd(r.weekly), monthly: toUsd(r.monthly) },
    by: r.set_by,
    updatedAt: r.updated_at.getTime(),
  };
}

export type ApprovalRow = ApprovalColumns<Date>;

export function toApproval(r: ApprovalRow): ApprovalRecord {
  return {
    id: r.id,
    status: r.status,
    createdAt: r.created_at.getTime(),
    expiresAt: r.expires_at.getTime(),
    requestId: r.request_id,
    agent: r.agent,
    team: r.team,
    keyId: r.key_id,
    run: r.run,
    contract: r.contract,
    rule: r.rule,
    kind: r.kind,
    subject: r.subject,
    decidedAt: toMs(r.decided_at),
    decidedBy: r.decided_by,
    reason: r.reason,
  };
}
