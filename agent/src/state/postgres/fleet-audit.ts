// The nodes' audit logs as shipped to the control plane (migration 004, docs/fleet.md "One audit
// record"). Batches arrive at least once and in order per log; a record is stored once by
// (log, seq), and one that arrives again with other bytes is kept aside as a fork.
import type { Pool } from 'pg';
import { inTransaction } from './transaction.js';

export interface ShippedBatch {
  /** The log's verifier key: what names a log. */
  log: string;
  nodeId: string;
  firstSeq: number;
  /** Records as the node's file holds them: a 4-byte big-endian length, then the record, each. */
  framed: Buffer;
  /** The node's newest signed checkpoint (note text), or null when it sent none. */
  checkpoint: string | null;
  at: number;
}

export interface StoredBatch {
  /** Every record before this is stored: where the node ships from next. */
  nextSeq: number;
  /** Records received again with bytes other than those stored. */
  forks: number;
}

export interface ShippedLog {
  log: string;
  nodeId: string;
  nextSeq: number;
  firstAt: number;
  lastAt: number;
}

/** Serialises appends to the fleet log. */
const FLEET_LOG_LOCK = 0x616c7466; // 'altf'
const SEAL_LOCK = 0x616c746b; // 'altk'

export interface FleetLogEntry {
  seq: number;
  log: string;
  nodeId: string;
  note: string;
}

export class FleetAuditStore {
  constructor(
    private readonly pool: Pool,
    private readonly url: string,
  ) {}

  /** Where a log's shipping resumes (0 for a log not seen yet). */
  async nextSeq(log: string): Promise<number> {
    const r = await this.pool.query<{ next_seq: string }>('SELECT next_seq FROM audit_logs WHERE log = $1', [log]);
    return r.rows[0] ? Number(r.rows[0].next_seq) : 0;
  }

  /**
   * Stores a batch in one transaction holding the log's row: records already stored are compared,
   * not rewritten; records past a gap are refused (the node resends from nextSeq).
   */
  store(b: ShippedBatch): Promise<StoredBatch> {
    return inTransaction(this.pool, this.url, async (c) => {
      const at = new Date(b.at);
      await c.query('INSERT INTO audit_logs (log, node_id, first_at, last_at) VALUES ($1, $2, $3, $3) ON CONFLICT (log) DO UPDATE SET last_at = EXCLUDED.last_at', [b.log, b.nodeId, at]);
      const head = await c.query<{ next_seq: string }>('SELECT next_seq FROM audit_logs WHERE log = $1 FOR UPDATE', [b.log]);
      let next = Number(head.rows[0]!.next_seq);
      let forks = 0;
      if (b.firstSeq > next) return { nextSeq: next, forks };
      const records = splitFramed(b.framed);
      // The part already stored: compared, so a log rewritten after shipping is caught.
      const overlap = records.slice(0, Math.max(0, next - b.firstSeq));
      if (overlap.length > 0) {
        const stored = await readRecords(c, b.log, b.firstSeq, b.firstSeq + overlap.length);
        for (const [i, bytes] of overlap.entries()) {
          const seq = b.firstSeq + i;
          if (stored.get(seq)?.equals(bytes)) continue;
          await c.query('INSERT INTO audit_forks (log, seq, record, received_at) VALUES ($1, $2, $3, $4)', [b.log, seq, bytes, at]);
          forks++;
        }
      }
      const fresh = records.slice(overlap.length);
      if (fresh.length > 0) {
        await c.query('INSERT INTO audit_batches (log, first_seq, count, framed) VALUES ($1, $2, $3, $4)', [b.log, next, fresh.length, overlap.length ? frameAll(fresh) : b.framed]);
        next += fresh.length;
        await c.query('UPDATE audit_logs SET next_seq = $2 WHERE log = $1', [b.log, next]);
      }
      if (b.checkpoint !== null) {
        const added = await c.query('INSERT INTO audit_checkpoints (log, size, note, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [b.log, checkpointSize(b.checkpoint), b.checkpoint, at]);
        if (added.rowCount === 1) {
          // A leaf of the fleet log: appended in commit order (one appender at a time), so the signed fleet tree is the same on every replica.
          await c.query('SELECT pg_advisory_xact_lock($1)', [FLEET_LOG_LOCK]);
          await c.query('INSERT INTO fleet_audit_entries (seq, log, node_id, note, received_at) SELECT coalesce(max(seq) + 1, 0), $1, $2, $3, $4 FROM fleet_audit_entries', [b.log, b.nodeId, b.checkpoint, at]);
        }
      }
      return { nextSeq: next, forks };
    });
  }

  async logs(): Promise<ShippedLog[]> {
    const r = await this.pool.query<{ log: string; node_id: string; next_seq: string; first_at: Date; last_at: Date }>('SELECT * FROM audit_logs ORDER BY node_id COLLATE "C", first_at');
    return r.rows.map((x) => ({ log: x.log, nodeId: x.node_id, nextSeq: Number(x.next_seq), firstAt: x.first_at.getTime(), lastAt: x.last_at.getTime() }));
  }

  /** A log's records in sequence order (as stored; verification checks their numbers). */
  async records(log: string): Promise<{ seq: number; record: Buffer }[]> {
    const stored = await readRecords(this.pool, log, 0, Number.MAX_SAFE_INTEGER);
    return [...stored].sort((a, b) => a[0] - b[0]).map(([seq, record]) => ({ seq, record }));
  }

  async checkpoints(log: string): Promise<{ size: number; note: string }[]> {
    const r = await this.pool.query<{ size: string; note: string }>('SELECT size, note FROM audit_checkpoints WHERE log = $1 ORDER BY size, received_at', [log]);
    return r.rows.map((x) => ({ size: Number(x.size), note: x.note }));
  }

  /** Fleet log entries from `seq` on, in order. */
  async entries(from: number, limit = 10_000): Promise<FleetLogEntry[]> {
    const r = await this.pool.query<{ seq: string; log: string; node_id: string; note: string }>('SELECT seq, log, node_id, note FROM fleet_audit_entries WHERE seq >= $1 ORDER BY seq LIMIT $2', [from, limit]);
    return r.rows.map((x) => ({ seq: Number(x.seq), log: x.log, nodeId: x.node_id, note: x.note }));
  }

  async fleetCheckpoints(): Promise<{ size: number; note: string }[]> {
    const r = await this.pool.query<{ size: string; note: string }>('SELECT size, note FROM fleet_audit_checkpoints ORDER BY size');
    return r.rows.map((x) => ({ size: Number(x.size), note: x.note }));
  }

  async addFleetCheckpoint(size: number, note: string, at: number): Promise<void> {
    await this.pool.query('INSERT INTO fleet_audit_checkpoints (size, note, signed_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [size, note, new Date(at)]);
  }

  /** The fleet log's signing key, made by `create` when there is none: one key however many replicas race. */
  loadOrCreateKey(create: () => { keySealed: Buffer; verifierKey: string }): Promise<{ keySealed: Buffer; verifierKey: string }> {
    return inTransaction(this.pool, this.url, async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK]);
      const found = await c.query<{ key_sealed: Buffer; verifier_key: string }>('SELECT key_sealed, verifier_key FROM fleet_audit_key WHERE id = 1');
      if (found.rows[0]) return { keySealed: found.rows[0].key_sealed, verifierKey: found.rows[0].verifier_key };
      const made = create();
      await c.query('INSERT INTO fleet_audit_key (id, key_sealed, verifier_key, created_at) VALUES (1, $1, $2, now())', [made.keySealed, made.verifierKey]);
      return made;
    });
  }

  async forks(log: string): Promise<{ seq: number; receivedAt: number }[]> {
    const r = await this.pool.query<{ seq: string; received_at: Date }>('SELECT seq, received_at FROM audit_forks WHERE log = $1 ORDER BY seq', [log]);
    return r.rows.map((x) => ({ seq: Number(x.seq), receivedAt: x.received_at.getTime() }));
  }
}

/** The tree size a signed note states (its second line); 0 when it does not parse (verification names it). */
function checkpointSize(note: string): number {
  const size = Number(note.split('\n')[1]);
  return Number.isSafeInteger(size) && size >= 0 ? size : 0;
}

/** The records of a framed piece (4-byte length, record, …); a piece cut short ends where its last whole record does. */
export function splitFramed(framed: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  while (at + 4 <= framed.length) {
    const length = framed.readUInt32BE(at);
    if (at + 4 + length > framed.length) break;
    out.push(framed.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return out;
}

function frameAll(records: Buffer[]): Buffer {
  return Buffer.concat(records.flatMap((r) => {
    const head = Buffer.allocUnsafe(4);
    head.writeUInt32BE(r.length, 0);
    return [head, r];
  }));
}

/** The records of `log` with from ≤ seq < to, by sequence number, from the batches that hold them. */
async function readRecords(db: { query: Pool['query'] }, log: string, from: number, to: number): Promise<Map<number, Buffer>> {
  const r = await db.query<{ first_seq: string; framed: Buffer }>('SELECT first_seq, framed FROM audit_batches WHERE log = $1 AND first_seq < $3 AND first_seq + count > $2 ORDER BY first_seq', [log, from, to]);
  const out = new Map<number, Buffer>();
  for (const row of r.rows) {
    for (const [i, rec] of splitFramed(row.framed).entries()) {
      const seq = Number(row.first_seq) + i;
      if (seq >= from && seq < to) out.set(seq, rec);
    }
  }
  return out;
}

