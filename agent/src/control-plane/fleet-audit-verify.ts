// `altrace audit verify` against the control plane (docs/fleet.md, "One audit record"): every
// node's shipped log checked as the node itself would check its files (verifyRecords), and what
// only the fleet can see named: a node that stopped shipping (a gap), and a log rewritten after
// it was shipped, or signed two ways (a fork).
import { CheckpointError, openSignedCheckpoint, parseVerifierKey } from '../audit/checkpoint.js';
import { verifyRecords } from '../audit/verify.js';
import type { FleetAuditStore, NodeRecord } from '../state/postgres/index.js';
import { verifyFleetLog, type FleetLogReport } from './fleet-audit-log.js';

/** A log whose node signed more than it shipped, and has shipped nothing for this long, has a gap. */
export const SHIPPING_GAP_MS = 30_000;

export interface LogReport {
  node: string;
  verifier_key: string;
  ok: boolean;
  records: number;
  checkpoints: number;
  /** Records covered by a checkpoint that verified. */
  signed_records: number;
  first_bad_record: number | null;
  problem: string | null;
  last_shipped: string;
}

export interface FleetVerifyReport {
  ok: boolean;
  /** The fleet log: the node checkpoints under the control plane's signed checkpoints. */
  fleet: FleetLogReport;
  logs: LogReport[];
  /** Nodes in contact with the control plane that have shipped no log. */
  silent_nodes: string[];
  problem: string | null;
}

export async function verifyFleetAudit(audit: FleetAuditStore, fleetKey: string, nodes: readonly NodeRecord[], now = Date.now()): Promise<FleetVerifyReport> {
  const reports: LogReport[] = [];
  const shipping = new Set<string>();
  const notes = new Map<string, Set<string>>();
  for (const log of await audit.logs()) {
    shipping.add(log.nodeId);
    const stored = await audit.records(log.log);
    const checkpoints = await audit.checkpoints(log.log);
    notes.set(log.log, new Set(checkpoints.map((c) => c.note)));
    const problems: [number, string][] = [];
    const base = { node: log.nodeId, verifier_key: log.log, last_shipped: new Date(log.lastAt).toISOString() };
    let verifier;
    try {
      verifier = parseVerifierKey(log.log);
    } catch (err) {
      reports.push({ ...base, ok: false, records: stored.length, checkpoints: checkpoints.length, signed_records: 0, first_bad_record: 0, problem: `the log's verifier key does not parse: ${(err as Error).message}` });
      continue;
    }
    for (const f of await audit.forks(log.log)) {
      problems.push([f.seq, `fork: record ${f.seq} was shipped again on ${new Date(f.receivedAt).toISOString()} with other bytes than first stored (the node's log was rewritten after shipping)`]);
    }
    forkedCheckpoints(checkpoints, verifier, problems);
    // Signed by the node but never shipped: behind for a moment, or a gap once it stopped.
    const signed = Math.max(0, ...checkpoints.map((c) => c.size));
    const shippable = checkpoints.filter((c) => c.size <= stored.length);
    if (signed > stored.length && now - log.lastAt > SHIPPING_GAP_MS) {
      problems.push([stored.length, `gap: node ${log.nodeId} signed ${signed} records but shipped ${stored.length}, the last ${Math.round((now - log.lastAt) / 1000)} s ago: records ${stored.length}..${signed - 1} are missing`]);
    }
    const r = verifyRecords(stored.map((s) => s.record), shippable, verifier, problems, 'the node shipped records but no signed checkpoint yet');
    reports.push({ ...base, ok: r.ok, records: r.records, checkpoints: checkpoints.length, signed_records: r.signedSize, first_bad_record: r.firstBadRecord, problem: r.problem });
  }
  const fleet = await verifyFleetLog(audit, fleetKey, notes);
  const silent = nodes.filter((n) => n.removedAt === null && n.lastContactAt !== null && !shipping.has(n.id) && now - n.enrolledAt > SHIPPING_GAP_MS).map((n) => n.id);
  const firstBad = reports.find((r) => !r.ok);
  const problem = firstBad
    ? `node ${firstBad.node}: ${firstBad.problem}`
    : !fleet.ok
      ? `fleet log: ${fleet.problem}`
      : silent.length
        ? `gap: node ${silent.join(', ')} is in contact but has shipped no audit log`
        : null;
  return { ok: problem === null, fleet, logs: reports, silent_nodes: silent, problem };
}

/** Two signed checkpoints of one size with different roots: the node's key signed two histories. */
function forkedCheckpoints(checkpoints: readonly { size: number; note: string }[], verifier: ReturnType<typeof parseVerifierKey>, problems: [number, string][]): void {
  const rootAt = new Map<number, string>();
  for (const c of checkpoints) {
    let root: string;
    try {
      root = openSignedCheckpoint(c.note, verifier).root.toString('base64');
    } catch (err) {
      if (err instanceof CheckpointError) continue; // named by verifyRecords
      throw err;
    }
    const had = rootAt.get(c.size);
    if (had !== undefined && had !== root) problems.push([c.size, `fork: two checkpoints of size ${c.size} signed with different roots`]);
    rootAt.set(c.size, root);
  }
}
