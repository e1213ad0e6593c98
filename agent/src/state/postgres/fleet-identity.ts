// The fleet's identity rows (migration 002): the CA, enrolled nodes, enrollment tokens. None of
// them is in the change log: nodes do not decide from them, the control plane does.
import type { Pool } from 'pg';
import { inTransaction } from './transaction.js';

export interface StoredCa {
  certPem: string;
  keySealed: Buffer;
}

export interface NodeRecord {
  id: string;
  name: string;
  enrolledAt: number;
  certSerial: string;
  certExpiresAt: number;
  lastContactAt: number | null;
  version: string | null;
  appliedVersion: number;
  removedAt: number | null;
}

export interface EnrollmentToken {
  name: string;
  createdAt: number;
  expiresAt: number | null;
  createdBy: string;
}

/** Replicas that start together make the CA once: the first takes this lock, the rest then find its row. */
const CA_LOCK = 0x616c7463; // 'altc'

const ms = (d: Date | null): number | null => (d ? d.getTime() : null);

export class FleetIdentityStore {
  constructor(
    private readonly pool: Pool,
    private readonly url: string,
  ) {}

  /** The CA row, made by `create` if there is none yet: exactly one CA however many replicas race. */
  loadOrCreateCa(create: () => Promise<StoredCa>): Promise<StoredCa> {
    return inTransaction(this.pool, this.url, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [CA_LOCK]);
      const found = await c.query<{ cert_pem: string; key_sealed: Buffer }>('SELECT cert_pem, key_sealed FROM fleet_ca WHERE id = 1');
      if (found.rows[0]) return { certPem: found.rows[0].cert_pem, keySealed: found.rows[0].key_sealed };
      const made = await create();
      await c.query('INSERT INTO fleet_ca (id, cert_pem, key_sealed, created_at) VALUES (1, $1, $2, now())', [made.certPem, made.keySealed]);
      return made;
    });
  }

  /** Records an enrollment or a renewal: the node's current certificate. */
  putNode(n: { id: string; name: string; certSerial: string; certExpiresAt: number; at: number }): Promise<void> {
    return inTransaction(this.pool, this.url, async (c) => {
      await c.query(
        `INSERT INTO nodes (id, name, enrolled_at, cert_serial, cert_expires_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, cert_serial = EXCLUDED.cert_serial, cert_expires_at = EXCLUDED.cert_expires_at, removed_at = NULL`,
        [n.id, n.name, new Date(n.at), n.certSerial, new Date(n.certExpiresAt)],
      );
    });
  }

  async getNode(id: string): Promise<NodeRecord | null> {
    const r = await this.pool.query<NodeRow>('SELECT * FROM nodes WHERE id = $1', [id]);
    return r.rows[0] ? toNode(r.rows[0]) : null;
  }

  async listNodes(): Promise<NodeRecord[]> {
    const r = await this.pool.query<NodeRow>('SELECT * FROM nodes ORDER BY name COLLATE "C", id COLLATE "C"');
    return r.rows.map(toNode);
  }

  /** False when there was no such node, or it was already removed. */
  removeNode(id: string, at: number): Promise<boolean> {
    return inTransaction(this.pool, this.url, async (c) => (await c.query('UPDATE nodes SET removed_at = $2 WHERE id = $1 AND removed_at IS NULL', [id, new Date(at)])).rowCount === 1);
  }

  /** Records a node's heartbeat: when it was last heard from, what it runs, the change version it applied. */
  // One autocommitted statement: a heartbeat from every node need not pay for BEGIN and COMMIT too.
  /** Records a node's contact; false when the node is no longer enrolled (removed), so its stream must end. */
  async touchNode(id: string, at: number, version: string, appliedVersion: number): Promise<boolean> {
    const r = await this.pool.query('UPDATE nodes SET last_contact_at = $2, version = $3, applied_version = $4 WHERE id = $1 AND removed_at IS NULL', [id, new Date(at), version, appliedVersion]);
    return r.rowCount === 1;
  }

  /** False when the name is taken: the unique index decides, so of two replicas issuing one name at once only one succeeds. */
  addEnrollmentToken(hash: string, t: EnrollmentToken): Promise<boolean> {
    return inTransaction(this.pool, this.url, async (c) => {
      const r = await c.query('INSERT INTO enrollment_tokens (hash, name, created_at, expires_at, created_by) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [hash, t.name, new Date(t.createdAt), t.expiresAt === null ? null : new Date(t.expiresAt), t.createdBy]);
      return r.rowCount === 1;
    });
  }

  async findEnrollmentToken(hash: string): Promise<EnrollmentToken | null> {
    const r = await this.pool.query<TokenRow>('SELECT name, created_at, expires_at, created_by FROM enrollment_tokens WHERE hash = $1', [hash]);
    return r.rows[0] ? toToken(r.rows[0]) : null;
  }

  async listEnrollmentTokens(): Promise<EnrollmentToken[]> {
    const r = await this.pool.query<TokenRow>('SELECT name, created_at, expires_at, created_by FROM enrollment_tokens ORDER BY name COLLATE "C"');
    return r.rows.map(toToken);
  }

  /** The deleted token, or null when there was none by that name. */
  deleteEnrollmentToken(name: string): Promise<EnrollmentToken | null> {
    return inTransaction(this.pool, this.url, async (c) => {
      const r = await c.query<TokenRow>('DELETE FROM enrollment_tokens WHERE name = $1 RETURNING name, created_at, expires_at, created_by', [name]);
      return r.rows[0] ? toToken(r.rows[0]) : null;
    });
  }
}

interface TokenRow {
  name: string;
  created_at: Date;
  expires_at: Date | null;
  created_by: string;
}

function toToken(r: TokenRow): EnrollmentToken {
  return { name: r.name, createdAt: r.created_at.getTime(), expiresAt: ms(r.expires_at), createdBy: r.created_by };
}

interface NodeRow {
  id: string;
  name: string;
  enrolled_at: Date;
  cert_serial: string;
  cert_expires_at: Date;
  last_contact_at: Date | null;
  version: string | null;
  applied_version: string;
  removed_at: Date | null;
}

function toNode(r: NodeRow): NodeRecord {
  return {
    id: r.id,
    name: r.name,
    enrolledAt: r.enrolled_at.getTime(),
    certSerial: r.cert_serial,
    certExpiresAt: r.cert_expires_at.getTime(),
    lastContactAt: ms(r.last_contact_at),
    version: r.version,
    appliedVersion: Number(r.applied_version),
    removedAt: ms(r.removed_at),
  };
}

/** An agent a node saw: registered (it holds a key) or shadow (found by node enforcement, no key). */
export interface SeenAgent {
  id: string;
  agent: string;
  team: string;
  kind: 'registered' | 'shadow';
  firstSeen: number;
  lastSeen: number;
}

export interface NodeReport {
  nodeId: string;
  seenAgents: SeenAgent[];
  bpfStatus: unknown;
  reportedAt: number;
}

/** Each node's last report of itself (migration 005). */
export class NodeReportStore {
  constructor(private readonly pool: Pool) {}

  async putSeenAgents(nodeId: string, agents: SeenAgent[], at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO node_reports (node_id, seen_agents, reported_at) VALUES ($1, $2, $3)
       ON CONFLICT (node_id) DO UPDATE SET seen_agents = EXCLUDED.seen_agents, reported_at = EXCLUDED.reported_at`,
      [nodeId, JSON.stringify(agents), new Date(at)],
    );
  }

  async putBpfStatus(nodeId: string, status: unknown, at: number): Promise<void> {
    await this.pool.query(
      `INSERT INTO node_reports (node_id, bpf_status, reported_at) VALUES ($1, $2, $3)
       ON CONFLICT (node_id) DO UPDATE SET bpf_status = EXCLUDED.bpf_status, reported_at = EXCLUDED.reported_at`,
      [nodeId, JSON.stringify(status), new Date(at)],
    );
  }

  async all(): Promise<NodeReport[]> {
    const r = await this.pool.query<{ node_id: string; seen_agents: SeenAgent[]; bpf_status: unknown; reported_at: Date }>('SELECT * FROM node_reports ORDER BY node_id COLLATE "C"');
    return r.rows.map((x) => ({ nodeId: x.node_id, seenAgents: x.seen_agents, bpfStatus: x.bpf_status, reportedAt: x.reported_at.getTime() }));
  }
}

