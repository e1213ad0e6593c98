import type { OperatorToken } from '../state/store.js';

/**
 * Who acts: the name of an operator token and its team, null for an admin (every team). Whoever
 * authenticates a caller (the control API today, a control-plane replica next) builds one; the
 * services authorize by it (team-scope.ts), so they never need the layer that authenticated.
 */
export type Operator = Pick<OperatorToken, 'name' | 'team'>;
