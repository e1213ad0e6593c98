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
  records: Buffer[];
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
      // The part already stored: compared, so a log rewritten after shipping is caught.
      const overlap = b.records.slice(0, Math.max(0, next - b.firstSeq));
      if (overlap.length > 0) {
        const stored = await c.query<{ seq: string; record: Buffer }>('SELECT seq, record FROM audit_records WHERE log = $1 AND seq >= $2 AND seq < $3', [b.log, b.firstSeq, b.firstSeq + overlap.length]);
        const bySeq = new Map(stored.rows.map((r) => [Number(r.seq), r.record]));
        for (const [i, bytes] of overlap.entries()) {
          const seq = b.firstSeq + i;
          const had = bySeq.get(seq);
          if (had && had.equals(bytes)) continue;
          await c.query('INSERT INTO audit_forks (log, seq, record, received_at) VALUES ($1, $2, $3, $4)', [b.log, seq, bytes, at]);
          forks++;
        }
      }
      const fresh = b.records.slice(overlap.length);
      if (fresh.length > 0) {
        await c.query('INSERT INTO audit_records (log, seq, record) SELECT $1, s, r FROM unnest($2::bigint[], $3::bytea[]) AS t(s, r)', [b.log, fresh.map((_, i) => next + i), fresh]);
        next += fresh.length;
        await c.query('UPDATE audit_logs SET next_seq = $2 WHERE log = $1', [b.log, next]);
      }
      if (b.checkpoint !== null) await c.query('INSERT INTO audit_checkpoints (log, size, note, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [b.log, checkpointSize(b.checkpoint), b.checkpoint, at]);
      return { nextSeq: next, forks };
    });
  }

  async logs(): Promise<ShippedLog[]> {
    const r = await this.pool.query<{ log: string; node_id: string; next_seq: string; first_at: Date; last_at: Date }>('SELECT * FROM audit_logs ORDER BY node_id COLLATE "C", first_at');
    return r.rows.map((x) => ({ log: x.log, nodeId: x.node_id, nextSeq: Number(x.next_seq), firstAt: x.first_at.getTime(), lastAt: x.last_at.getTime() }));
  }

  /** A log's records in sequence order (as stored; verification checks their numbers). */
  async records(log: string): Promise<{ seq: number; record: Buffer }[]> {
    const r = await this.pool.query<{ seq: string; record: Buffer }>('SELECT seq, record FROM audit_records WHERE log = $1 ORDER BY seq', [log]);
    return r.rows.map((x) => ({ seq: Number(x.seq), record: x.record }));
  }

  async checkpoints(log: string): Promise<{ size: number; note: string }[]> {
    const r = await this.pool.query<{ size: string; note: string }>('SELECT size, note FROM audit_checkpoints WHERE log = $1 ORDER BY size, received_at', [log]);
    return r.rows.map((x) => ({ size: Number(x.size), note: x.note }));
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
