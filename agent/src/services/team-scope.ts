import type { KeyRegistry, VirtualKey } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import type { Operator } from './operator.js';
import { roleOf, type Role } from './roles.js';

// Team scope, decided in one place: an admin token (role admin, team null) sees and touches
// everything; a team token (any other role) sees and touches only its own team's keys, agents and
// switches — within what its role permits (roles.ts, checked per route).

export function isAdmin(op: Operator): boolean {
  return roleOf(op) === 'admin';
}

export function requireAdmin(op: Operator, what: string): void {
  if (!isAdmin(op)) throw new ControlError('ALT_FORBIDDEN', `only an admin token may ${what}; this token is scoped to team ${op.team}`);
}

/** An admin, or one of `roles` (whose team scope the caller applies). */
export function requireRole(op: Operator, roles: readonly Role[], what: string): void {
  const role = roleOf(op);
  if (role !== 'admin' && !roles.includes(role)) throw new ControlError('ALT_FORBIDDEN', `only an admin or ${roles.join(' or ')} token may ${what}; this is a ${role} token`);
}

export function requireTeam(op: Operator, team: string, field: string): void {
  if (!isAdmin(op) && team !== op.team) throw new ControlError('ALT_FORBIDDEN', `this token is scoped to team ${op.team} and may not act on team ${team}`, field);
}

export function canSeeTeam(op: Operator, team: string): boolean {
  return isAdmin(op) || op.team === team;
}

/**
 * Each agent's team: the team of its first key. An agent belongs to one team for good, because
 * everything kept about it (decisions, spend, switches, budgets, levels) is keyed by its name:
 * a second team holding keys for the same name would act on, and read, the first team's agent.
 * Later keys in another team are refused when issued (KeyService); for keys that predate that
 * rule the first key still decides, so the original team keeps its agent.
 */
export function agentTeams(keys: KeyRegistry): Map<string, string> {
  const first = new Map<string, VirtualKey>();
  for (const k of keys.list()) {
    const f = first.get(k.agent);
    // Ties (two keys in one millisecond) go to the smaller id, so the answer never changes.
    if (!f || k.createdAt < f.createdAt || (k.createdAt === f.createdAt && k.id < f.id)) first.set(k.agent, k);
  }
  return new Map([...first].map(([agent, k]) => [agent, k.team]));
}

/** The team an agent belongs to; null for a name no key was ever issued for. */
export function teamOfAgent(keys: KeyRegistry, agent: string): string | null {
  return agentTeams(keys).get(agent) ?? null;
}

/** A team token may act on its own team's agents only; another team's agent is reported as unknown, not as forbidden. */
export function requireAgentInScope(op: Operator, keys: KeyRegistry, agent: string, field: string): void {
  if (isAdmin(op)) return;
  if (teamOfAgent(keys, agent) !== op.team) throw new ControlError('ALT_NOT_FOUND', `no agent ${agent} in team ${op.team}`, field);
}
