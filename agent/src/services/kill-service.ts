import { GLOBAL_TARGET, KILL_SCOPES, type KeyRegistry, type KillScope, type KillSwitch, type KillSwitches } from '../../../proxy/src/index.js';
import { agentTeams, canSeeTeam, isAdmin, requireAdmin, requireAgentInScope, requireTeam } from './team-scope.js';
import type { Operator } from './operator.js';
import { ControlError, notOneOf } from '../errors.js';
import type { ServiceStore } from '../state/service-store.js';

const FIELDS = new Set(['scope', 'target', 'reason']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** A switch released: which one, by whom and when. */
export interface KillRelease {
  released: KillSwitch;
  by: string;
  at: number;
}

export interface KillRequest {
  scope: KillScope;
  target: string;
  reason: string | null;
}

export function parseScope(v: unknown, field = 'scope'): KillScope {
  if (typeof v !== 'string' || !(KILL_SCOPES as readonly string[]).includes(v)) {
    throw new ControlError('ALT_INVALID_FIELD', notOneOf(field, v, KILL_SCOPES), field);
  }
  return v as KillScope;
}

/** The target of a switch: ignored (always `*`) for global, a team or agent name otherwise. */
export function parseTarget(scope: KillScope, v: unknown): string {
  if (scope === 'global') {
    if (v !== undefined && v !== GLOBAL_TARGET && v !== '') throw new ControlError('ALT_INVALID_FIELD', 'the global switch has no target (omit it or send "*")', 'target');
    return GLOBAL_TARGET;
  }
  if (typeof v !== 'string' || !NAME.test(v)) throw new ControlError('ALT_INVALID_FIELD', `target is required for scope ${scope}: a ${scope} name`, 'target');
  return v;
}

export function parseKillRequest(body: unknown): KillRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
  const scope = parseScope(b.scope);
  const target = parseTarget(scope, b.target);
  if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500)) {
    throw new ControlError('ALT_INVALID_FIELD', 'reason must be a string of at most 500 characters', 'reason');
  }
  return { scope, target, reason: (b.reason as string | undefined) ?? null };
}

/**
 * Engages and releases kill switches. The order is the guarantee: authorize, commit to the
 * store (fsync), then the in-memory switch (which ends in-flight requests), then reply.
 */
export class KillService {
  constructor(
    private readonly store: ServiceStore,
    private readonly switches: KillSwitches,
    private readonly keys: KeyRegistry,
    private readonly now: () => number = Date.now,
  ) {}

  /** The service with the store's switches engaged in memory. */
  static async open(store: ServiceStore, switches: KillSwitches, keys: KeyRegistry, now: () => number = Date.now): Promise<KillService> {
    for (const k of await store.listKills()) switches.engage(k);
    return new KillService(store, switches, keys, now);
  }

  #authorize(op: Operator, scope: KillScope, target: string): void {
    if (scope === 'global') requireAdmin(op, 'use the global kill switch');
    else if (scope === 'team') requireTeam(op, target, 'target');
    else requireAgentInScope(op, this.keys, target, 'target');
  }

  async engage(op: Operator, req: KillRequest): Promise<KillSwitch> {
    this.#authorize(op, req.scope, req.target);
    const k: KillSwitch = { ...req, by: op.name, createdAt: this.now() };
    await this.store.putKill(k);
    this.switches.engage(k);
    // Acknowledged once every loop has cut what the switch covers.
    await this.switches.confirmed();
    return k;
  }

  isEngaged(scope: KillScope, target: string): boolean {
    return this.switches.get(scope, target) !== undefined;
  }

  /** An agent switch engaged on behalf of enforcement (a level set to kill); the caller commits it, then engageCommitted. */
  systemSwitch(agent: string, by: string, reason: string | null): KillSwitch {
    return { scope: 'agent', target: agent, reason, by, createdAt: this.now() };
  }

  /** Engages a switch whose write is part of a caller's transaction (key revocation, a level set to kill). */
  engageCommitted(k: KillSwitch): Promise<void> {
    this.switches.engage(k);
    return this.switches.confirmed();
  }

  /** Releases a switch whose delete is part of a caller's transaction (a level leaving kill). */
  releaseCommitted(scope: KillScope, target: string): void {
    this.switches.release(scope, target);
  }

  async release(op: Operator, scopeParam: string, targetParam: string | undefined): Promise<KillRelease> {
    const scope = parseScope(scopeParam);
    const target = parseTarget(scope, targetParam);
    this.#authorize(op, scope, target);
    const engaged = this.switches.get(scope, target);
    if (!engaged) throw new ControlError('ALT_NOT_FOUND', `no kill switch engaged on ${scope === 'global' ? 'global' : `${scope} ${target}`}`, 'target');
    const at = this.now();
    await this.store.deleteKill(scope, target);
    this.switches.release(scope, target);
    return { released: engaged, by: op.name, at };
  }

  /** What this operator may see: the global switch, and its own team's and agents' switches. */
  list(op: Operator): KillSwitch[] {
    const teams = agentTeams(this.keys);
    return this.switches.list().filter((k) => {
      if (k.scope === 'global' || isAdmin(op)) return true;
      if (k.scope === 'team') return canSeeTeam(op, k.target);
      return teams.get(k.target) === op.team;
    });
  }
}

/** How the audit log names a switch: `global`, `team:NAME`, `agent:NAME`. */
export function killTarget(scope: string, target: string | undefined): string {
  return scope === 'global' || target === undefined ? scope : `${scope}:${target}`;
}

export function killView(k: KillSwitch) {
  return { scope: k.scope, target: k.target, reason: k.reason, by: k.by, engaged: new Date(k.createdAt).toISOString() };
}

/** The answer to a release: the switch as it was engaged, then the release itself. */
export function releaseView(r: KillRelease) {
  return {
    released: killView(r.released),
    released_at: new Date(r.at).toISOString(),
    released_by: r.by,
    engaged_for_s: Math.max(0, r.at - r.released.createdAt) / 1000,
  };
}
