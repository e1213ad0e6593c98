// What an operator token (or certificate) may do: one role, and — every role but admin — one team.
// Each control-API route declares the permission it needs (routes.add); a role is the set of
// permissions it holds. Team scope is applied on top, in the services (team-scope.ts).

export const ROLES = ['admin', 'operator', 'viewer', 'auditor', 'approver'] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ['read', 'write', 'approvals', 'approve', 'audit', 'admin'] as const;
/**
 * read: keys, agents, budgets, spend, switches, the chain and policy as they are; write: change
 * them (keys, kills, budgets, levels, delegations); approvals: see approval requests; approve:
 * answer them; audit: the audit log, its proofs and exports; admin: operator tokens, fleet nodes,
 * enrollment, the fleet policy.
 */
export type Permission = (typeof PERMISSIONS)[number];

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(PERMISSIONS),
  operator: new Set(['read', 'write', 'approvals', 'approve', 'audit']),
  viewer: new Set(['read', 'approvals']),
  auditor: new Set(['audit']),
  approver: new Set(['approvals', 'approve']),
};

/** A token stored before roles existed: no team made it an admin token, a team an operator's. */
export function roleOf(t: { team: string | null; role?: Role | null }): Role {
  return t.role ?? (t.team === null ? 'admin' : 'operator');
}

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}
