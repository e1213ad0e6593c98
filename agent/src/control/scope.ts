import type { KeyRegistry } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import type { Operator } from './router.js';

// Team scope, decided in one place: an admin token (team null) sees and touches everything;
// a team token sees and touches only its own team's keys, agents and switches.

export function isAdmin(op: Operator): boolean {
  return op.team === null;
}

export function requireAdmin(op: Operator, what: string): void {
  if (!isAdmin(op)) throw new ControlError('ALT_FORBIDDEN', 403, `only an admin token may ${what}; this token is scoped to team ${op.team}`);
}

export function requireTeam(op: Operator, team: string, field: string): void {
  if (!isAdmin(op) && team !== op.team) throw new ControlError('ALT_FORBIDDEN', 403, `this token is scoped to team ${op.team} and may not act on team ${team}`, field);
}

export function canSeeTeam(op: Operator, team: string): boolean {
  return isAdmin(op) || op.team === team;
}

/** The teams an agent name has keys in. */
export function teamsOfAgent(keys: KeyRegistry, agent: string): Set<string> {
  const teams = new Set<string>();
  for (const k of keys.list()) if (k.agent === agent) teams.add(k.team);
  return teams;
}

/**
 * A team token may act on an agent only when every key of that agent belongs to its team;
 * an agent it cannot see at all is reported as unknown, not as forbidden.
 */
export function requireAgentInScope(op: Operator, keys: KeyRegistry, agent: string, field: string): void {
  if (isAdmin(op)) return;
  const teams = teamsOfAgent(keys, agent);
  if (!teams.has(op.team!)) throw new ControlError('ALT_NOT_FOUND', 404, `no agent ${agent} in team ${op.team}`, field);
  if (teams.size > 1) throw new ControlError('ALT_FORBIDDEN', 403, `agent ${agent} also has keys in other teams; ask an admin`, field);
}
