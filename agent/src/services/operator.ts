import type { OperatorToken } from '../state/store.js';

/**
 * Who acts: the name of an operator token, its role, and its team (null for an admin: every team). Whoever
 * authenticates a caller (the control API today, a control-plane replica next) builds one; the
 * services authorize by it (team-scope.ts), so they never need the layer that authenticated.
 */
export type Operator = Pick<OperatorToken, 'name' | 'team'> & {
  /** Absent for the agent's own actors (rules, Kubernetes resources): derived from the team, as for tokens stored before roles. */
  role?: OperatorToken['role'];
};
