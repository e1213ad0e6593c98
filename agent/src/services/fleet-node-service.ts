import { randomBytes } from 'node:crypto';
import { hashKey } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import type { EnrollmentToken, FleetIdentityStore, NodeRecord } from '../state/postgres/fleet-identity.js';
import type { Operator } from './operator.js';
import { requireAdmin } from './team-scope.js';

const FIELDS = new Set(['name', 'ttl_hours']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
const HOUR_MS = 3_600_000;
const DEFAULT_TTL_HOURS = 24;
const MAX_TTL_HOURS = 8760;
const ENROLLMENT_TOKEN_PREFIX = 'altenroll-';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/**
 * The operator's side of the fleet (docs/fleet.md, "Enrollment and identity"): the enrolled
 * nodes, and the tokens a node enrolls with. Fleet membership is everyone's, so only an admin
 * sees or changes it.
 */
export class FleetNodeService {
  constructor(
    private readonly fleet: FleetIdentityStore,
    private readonly now: () => number = Date.now,
    /** The change log's head, for each node's lag; without it lag is null. */
    private readonly headVersion: (() => Promise<number>) | null = null,
    /** USD each node holds in outstanding budget leases. */
    private readonly leasesHeld: (() => Promise<Map<string, number>>) | null = null,
  ) {}

  async createEnrollmentToken(op: Operator, body: unknown): Promise<{ token: string; view: EnrollmentToken }> {
    requireAdmin(op, 'issue enrollment tokens');
    const { name, ttlHours } = parseTokenBody(body);
    const token = ENROLLMENT_TOKEN_PREFIX + randomBytes(24).toString('base64url');
    const createdAt = this.now();
    const view: EnrollmentToken = { name, createdAt, expiresAt: createdAt + ttlHours * HOUR_MS, createdBy: op.name };
    if (!(await this.fleet.addEnrollmentToken(hashKey(token), view))) throw new ControlError('ALT_CONFLICT', `an enrollment token named ${name} exists; delete it first`, 'name');
    return { token, view };
  }

  async listEnrollmentTokens(op: Operator): Promise<EnrollmentToken[]> {
    requireAdmin(op, 'list enrollment tokens');
    return await this.fleet.listEnrollmentTokens();
  }

  async deleteEnrollmentToken(op: Operator, name: string): Promise<EnrollmentToken> {
    requireAdmin(op, 'delete enrollment tokens');
    const deleted = await this.fleet.deleteEnrollmentToken(name);
    if (!deleted) throw new ControlError('ALT_NOT_FOUND', `no enrollment token named ${name}`, 'name');
    return deleted;
  }

  /**
   * The token a bootstrap secret belongs to, or null for one unknown or expired. No operator: the
   * enrollment endpoint calls it with what a node presented. A token enrolls any number of nodes
   * until it expires or is deleted (one token serves a whole DaemonSet).
   */
  async verifyEnrollmentToken(secret: string): Promise<EnrollmentToken | null> {
    const found = await this.fleet.findEnrollmentToken(hashKey(secret));
    if (!found || (found.expiresAt !== null && found.expiresAt <= this.now())) return null;
    return found;
  }

  async listNodes(op: Operator): Promise<NodeView[]> {
    requireAdmin(op, 'list fleet nodes');
    const nodes = await this.fleet.listNodes();
    // Read after the nodes, so no node's applied version is ahead of it and lag is never negative.
    const head = this.headVersion ? await this.headVersion() : null;
    const held = this.leasesHeld ? await this.leasesHeld() : new Map<string, number>();
    return nodes.map((n) => nodeView(n, head, held.get(n.id) ?? 0));
  }

  /**
   * Marks a node removed: its certificate is refused from then on. Unknown → ALT_NOT_FOUND;
   * removed already → ALT_NODE_REMOVED (409), since the row is still listed, with when.
   */
  async removeNode(op: Operator, id: string): Promise<NodeRecord> {
    requireAdmin(op, 'remove fleet nodes');
    const node = await this.fleet.getNode(id);
    if (!node) throw new ControlError('ALT_NOT_FOUND', `no fleet node ${id}`, 'id');
    if (!(await this.fleet.removeNode(id, this.now()))) throw new ControlError('ALT_NODE_REMOVED', `fleet node ${id} was removed already`, 'id');
    return (await this.fleet.getNode(id))!;
  }
}

function parseTokenBody(body: unknown): { name: string; ttlHours: number } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!FIELDS.has(k)) throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
  if (typeof b.name !== 'string' || !NAME.test(b.name)) throw new ControlError('ALT_INVALID_FIELD', 'name is required: letters, digits, _ . : - (at most 128)', 'name');
  const ttl = b.ttl_hours ?? DEFAULT_TTL_HOURS;
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 1 || ttl > MAX_TTL_HOURS) throw new ControlError('ALT_INVALID_FIELD', `ttl_hours must be a number of hours from 1 to ${MAX_TTL_HOURS}`, 'ttl_hours');
  return { name: b.name, ttlHours: ttl };
}

export type NodeView = ReturnType<typeof nodeView>;

/** A node as the API shows it; `head` is the change log's head, null when unknown (then lag is null). */
export function nodeView(n: NodeRecord, head: number | null, leasesUsd = 0) {
  return {
    id: n.id,
    name: n.name,
    version: n.version,
    enrolled: new Date(n.enrolledAt).toISOString(),
    last_contact: iso(n.lastContactAt),
    cert_expires: new Date(n.certExpiresAt).toISOString(),
    applied_version: n.appliedVersion,
    lag: head === null ? null : head - n.appliedVersion,
    removed: iso(n.removedAt),
    /** Outstanding budget leases the node holds (docs/fleet.md, "Budgets: leases"). */
    leases_usd: leasesUsd,
  };
}

export function enrollmentTokenView(t: EnrollmentToken) {
  return { name: t.name, created: new Date(t.createdAt).toISOString(), expires: iso(t.expiresAt), created_by: t.createdBy };
}
