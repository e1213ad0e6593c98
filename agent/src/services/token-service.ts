import { randomBytes } from 'node:crypto';
import { hashKey } from '../../../proxy/src/index.js';
import { requireAdmin } from './team-scope.js';
import { isRole, ROLES, type Role } from './roles.js';
import type { Operator } from './operator.js';
import { ControlError } from '../errors.js';
import type { OperatorToken } from '../state/store.js';
import type { ServiceStore } from '../state/service-store.js';

const FIELDS = new Set(['name', 'team', 'role', 'ttl_s']);
/** Ten years: a token that should never expire is issued without ttl_s. */
const MAX_TTL_S = 315_360_000;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const OPERATOR_TOKEN_PREFIX = 'altop-';
/** The name a rotated token's old secret goes by during its grace period. */
export const PREVIOUS = '~previous';

export function generateOperatorToken(): string {
  return OPERATOR_TOKEN_PREFIX + randomBytes(24).toString('base64url');
}

/** Operator tokens: admin tokens (every team) and team tokens, each with one role. Only an admin manages them. */
export class TokenService {
  constructor(
    private readonly store: ServiceStore,
    private readonly now: () => number = Date.now,
  ) {}

  async create(op: Operator, body: unknown): Promise<{ token: string; view: OperatorToken }> {
    requireAdmin(op, 'issue operator tokens');
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
    if (typeof b.name !== 'string' || !NAME.test(b.name)) throw new ControlError('ALT_INVALID_FIELD', 'name is required: letters, digits, _ . : - (at most 128)', 'name');
    if (b.team !== undefined && b.team !== null && (typeof b.team !== 'string' || !NAME.test(b.team))) {
      throw new ControlError('ALT_INVALID_FIELD', 'team must be a team name, or null/absent for an admin token', 'team');
    }
    if (b.ttl_s !== undefined && (!Number.isInteger(b.ttl_s) || (b.ttl_s as number) < 1 || (b.ttl_s as number) > MAX_TTL_S)) throw new ControlError('ALT_INVALID_FIELD', `ttl_s must be a whole number of seconds from 1 to ${MAX_TTL_S}`, 'ttl_s');
    if (b.role !== undefined && !isRole(b.role)) throw new ControlError('ALT_INVALID_FIELD', `role must be one of ${ROLES.join(', ')}`, 'role');
    const name = b.name;
    const token = generateOperatorToken();
    const team = (b.team as string | null | undefined) ?? null;
    // One role, and one team for every role but admin (an admin acts on every team).
    const role = (b.role as Role | undefined) ?? (team === null ? 'admin' : 'operator');
    if (role === 'admin' && team !== null) throw new ControlError('ALT_INVALID_FIELD', 'an admin token acts on every team: give no team', 'team');
    if (role !== 'admin' && team === null) throw new ControlError('ALT_INVALID_FIELD', `a ${role} token needs the team it acts for`, 'team');
    // Checked and added in one transaction: two replicas issuing one name cannot both succeed.
    const view = await this.store.transaction(async (tx) => {
      if ((await tx.listOperatorTokens()).some((t) => t.name === name)) throw new ControlError('ALT_CONFLICT', `a token named ${name} exists; delete it first`, 'name');
      await tx.addOperatorToken(hashKey(token), name, team, role, b.ttl_s === undefined ? null : this.now() + (b.ttl_s as number) * 1000);
      return (await tx.findOperatorToken(hashKey(token)))!;
    });
    return { token, view };
  }

  /**
   * A new secret under the same name; the old one keeps working as NAME~previous for `grace_s`
   * (default an hour; 0: refused at once), so callers move without downtime. The audit log names
   * calls made with the old secret NAME~previous: who has not moved yet.
   */
  async rotate(op: Operator, name: string, body: unknown): Promise<{ token: string; view: OperatorToken; previousUntil: number | null }> {
    requireAdmin(op, 'rotate operator tokens');
    const b = (body ?? {}) as Record<string, unknown>;
    if (typeof b !== 'object' || Array.isArray(b)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
    for (const k of Object.keys(b)) if (k !== 'grace_s') throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
    const grace = b.grace_s === undefined ? 3600 : b.grace_s;
    if (!Number.isInteger(grace) || (grace as number) < 0 || (grace as number) > 30 * 86_400) throw new ControlError('ALT_INVALID_FIELD', 'grace_s must be a whole number of seconds from 0 to 2592000 (30 days)', 'grace_s');
    if (name.endsWith(PREVIOUS)) throw new ControlError('ALT_INVALID_FIELD', `${name} is a rotated token's old secret: rotate ${name.slice(0, -PREVIOUS.length)}`, 'name');
    const token = generateOperatorToken();
    return await this.store.transaction(async (tx) => {
      const all = await tx.listOperatorTokens();
      const current = all.find((t) => t.name === name);
      if (!current) throw new ControlError('ALT_NOT_FOUND', `no operator token named ${name}`, 'name');
      const now = this.now();
      // An older rotation's leftover goes: one previous secret at a time.
      if (all.some((t) => t.name === name + PREVIOUS)) await tx.deleteOperatorToken(name + PREVIOUS);
      const previousUntil = grace === 0 ? null : Math.min(now + (grace as number) * 1000, current.expiresAt ?? Infinity);
      if (previousUntil === null) await tx.deleteOperatorToken(name);
      else await tx.renameOperatorToken(name, name + PREVIOUS, previousUntil);
      await tx.addOperatorToken(hashKey(token), name, current.team, current.role, current.expiresAt);
      return { token, view: (await tx.findOperatorToken(hashKey(token)))!, previousUntil };
    });
  }

  async list(op: Operator): Promise<OperatorToken[]> {
    requireAdmin(op, 'list operator tokens');
    return await this.store.listOperatorTokens();
  }

  async delete(op: Operator, name: string): Promise<OperatorToken> {
    requireAdmin(op, 'delete operator tokens');
    // One transaction: two replicas deleting the last two admin tokens cannot both succeed.
    return await this.store.transaction(async (tx) => {
      const all = await tx.listOperatorTokens();
      const target = all.find((t) => t.name === name);
      if (!target) throw new ControlError('ALT_NOT_FOUND', `no operator token named ${name}`, 'name');
      if (target.role === 'admin' && all.filter((t) => t.role === 'admin').length === 1) {
        throw new ControlError('ALT_CONFLICT', 'this is the last admin token; issue another admin token first', 'name');
      }
      await tx.deleteOperatorToken(name);
      return target;
    });
  }
}

export function tokenView(t: OperatorToken) {
  return { name: t.name, team: t.team, role: t.role, created: new Date(t.createdAt).toISOString(), expires: t.expiresAt === null ? null : new Date(t.expiresAt).toISOString() };
}
