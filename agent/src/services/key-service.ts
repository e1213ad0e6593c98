import { randomBytes } from 'node:crypto';
import { displayPrefix, generateKeySecret, hashKey, type KeyRegistry, type KillSwitch, type VirtualKey } from '../../../proxy/src/index.js';
import type { Operator } from './operator.js';
import { canSeeTeam, isAdmin, requireTeam, teamOfAgent } from './team-scope.js';
import type { KillService } from './kill-service.js';
import { ControlError } from '../errors.js';
import type { ServiceStore } from '../state/service-store.js';

export interface KeyRequest {
  agent: string;
  team: string;
  models?: string[];
  providers?: string[];
  cost_center?: string;
  /** ISO 8601 time after which the key is refused. */
  expires?: string;
}

const FIELDS = new Set(['agent', 'team', 'models', 'providers', 'expires', 'cost_center']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

function stringList(v: unknown, field: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0 || x.length > 200)) {
    throw new ControlError('ALT_INVALID_FIELD', `${field} must be an array of non-empty strings`, field);
  }
  return v as string[];
}

/** Validates a key request; every refusal names the field. */
export type KeyFields = Omit<VirtualKey, 'id' | 'hash' | 'prefix' | 'createdAt' | 'revokedAt'>;

export function parseKeyRequest(body: unknown, now: number): KeyFields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
  for (const f of ['agent', 'team'] as const) {
    if (typeof b[f] !== 'string' || !NAME.test(b[f] as string)) {
      throw new ControlError('ALT_INVALID_FIELD', `${f} is required: letters, digits, _ . : - (at most 128)`, f);
    }
  }
  if (b.cost_center !== undefined && (typeof b.cost_center !== 'string' || !NAME.test(b.cost_center))) {
    throw new ControlError('ALT_INVALID_FIELD', 'cost_center must be a name: letters, digits, _ . : - (at most 128)', 'cost_center');
  }
  let expiresAt: number | null = null;
  if (b.expires !== undefined) {
    expiresAt = typeof b.expires === 'string' ? Date.parse(b.expires) : NaN;
    if (!Number.isFinite(expiresAt)) throw new ControlError('ALT_INVALID_FIELD', 'expires must be an ISO 8601 time', 'expires');
    if (expiresAt <= now) throw new ControlError('ALT_INVALID_FIELD', 'expires must be in the future', 'expires');
  }
  return {
    agent: b.agent as string,
    team: b.team as string,
    models: stringList(b.models, 'models'),
    providers: stringList(b.providers, 'providers'),
    costCenter: (b.cost_center as string | undefined) ?? null,
    expiresAt,
  };
}

/** Issues, revokes and rotates virtual keys: persisted first, then made live in the registry. */
export class KeyService {
  constructor(
    private readonly store: ServiceStore,
    private readonly registry: KeyRegistry,
    private readonly kills: KillService,
    private readonly now: () => number = Date.now,
  ) {}

  /** The service with the store's keys in the registry the proxy reads. */
  static async open(store: ServiceStore, registry: KeyRegistry, kills: KillService, now: () => number = Date.now): Promise<KeyService> {
    for (const k of await store.listKeys()) registry.put(k);
    return new KeyService(store, registry, kills, now);
  }

  /** A key request from this operator: a team token names its own team, before anything else is checked. */
  parse(op: Operator, body: unknown): KeyFields {
    const team = (body as { team?: unknown } | null)?.team;
    if (typeof team === 'string') requireTeam(op, team, 'team');
    else if (!isAdmin(op)) throw new ControlError('ALT_INVALID_FIELD', `team is required (this token may issue keys for team ${op.team})`, 'team');
    return parseKeyRequest(body, this.now());
  }

  /**
   * Issues a key. An agent belongs to the team of its first key (team-scope.ts), for admins
   * too: moving a name would hand its history to the new team, so the refusal says to pick
   * another name. The check is made again inside the insert's transaction, so two calls (or two
   * replicas) cannot both claim a new name for different teams.
   */
  async create(op: Operator, fields: KeyFields): Promise<{ key: VirtualKey; secret: string }> {
    this.#sameTeam(op, fields, teamOfAgent(this.registry, fields.agent));
    const secret = generateKeySecret();
    const key: VirtualKey = {
      id: `key_${randomBytes(9).toString('base64url')}`,
      hash: hashKey(secret),
      prefix: displayPrefix(secret),
      createdAt: this.now(),
      revokedAt: null,
      ...fields,
    };
    // Checked again against the store in the insert's transaction: on a control plane another
    // replica may have given the name to a team this replica has not heard of yet.
    await this.store.transaction(async (tx) => {
      const first = (await tx.listKeys()).filter((k) => k.agent === fields.agent).sort((a, b) => a.createdAt - b.createdAt)[0];
      this.#sameTeam(op, fields, first?.team ?? null);
      await tx.insertKey(key);
    });
    this.registry.put(key);
    return { key, secret };
  }

  #sameTeam(op: Operator, fields: KeyFields, owner: string | null): void {
    if (owner !== null && owner !== fields.team) {
      // A team token learns only that the name is taken, not which team holds it.
      const holder = isAdmin(op) ? `team ${owner}` : 'another team';
      throw new ControlError(
        'ALT_AGENT_IN_OTHER_TEAM',
        `agent ${fields.agent} belongs to ${holder} (an agent belongs to the team of its first key); ${isAdmin(op) ? `issue its keys in team ${owner}, or ` : ''}give this agent another name`,
        'agent',
      );
    }
  }

  /** The keys this operator may see: its team's, or every key for an admin. */
  list(op: Operator): VirtualKey[] {
    return this.registry.list().filter((k) => canSeeTeam(op, k.team));
  }

  /** A key of another team is reported as unknown: a team token learns nothing about it. */
  get(op: Operator, id: string): VirtualKey {
    const key = this.registry.get(id);
    if (!key || !canSeeTeam(op, key.team)) throw new ControlError('ALT_NOT_FOUND', `no key ${id}`, 'id');
    return key;
  }

  /**
   * Revokes the key and, in the same transaction, engages its agent's kill switch, so the
   * agent's other keys and its streams already under way stop with it.
   */
  async revoke(op: Operator, id: string): Promise<{ key: VirtualKey; kill: KillSwitch | null }> {
    const key = this.get(op, id);
    if (key.revokedAt !== null) return { key, kill: null };
    const now = this.now();
    const next = { ...key, revokedAt: now };
    const kill: KillSwitch | null = this.kills.isEngaged('agent', key.agent)
      ? null
      : { scope: 'agent', target: key.agent, reason: `key ${id} revoked`, by: op.name, createdAt: now };
    await this.store.transaction(async (tx) => {
      await tx.updateKey(next);
      if (kill) await tx.putKill(kill);
    });
    this.registry.put(next);
    if (kill) await this.kills.engageCommitted(kill);
    return { key: next, kill };
  }

  async rotate(op: Operator, id: string): Promise<{ key: VirtualKey; secret: string }> {
    const key = this.get(op, id);
    if (key.revokedAt !== null) throw new ControlError('ALT_KEY_REVOKED', `key ${id} is revoked and cannot be rotated`, 'id');
    const secret = generateKeySecret();
    const next = { ...key, hash: hashKey(secret), prefix: displayPrefix(secret) };
    await this.store.updateKey(next);
    this.registry.put(next);
    return { key: next, secret };
  }
}

/** The public face of a key: never the hash, never the secret. */
export function keyView(k: VirtualKey) {
  return {
    id: k.id,
    prefix: k.prefix,
    agent: k.agent,
    team: k.team,
    models: k.models,
    providers: k.providers,
    cost_center: k.costCenter,
    expires: k.expiresAt === null ? null : new Date(k.expiresAt).toISOString(),
    revoked: k.revokedAt === null ? null : new Date(k.revokedAt).toISOString(),
    created: new Date(k.createdAt).toISOString(),
  };
}
