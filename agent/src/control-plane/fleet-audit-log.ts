// The fleet log (docs/fleet.md, "One audit record"): the node checkpoints the control plane
// received are the leaves of one Merkle tree, whose checkpoints the control plane signs. The
// fleet's record is then one root: every node's log is covered by a node checkpoint, and every
// node checkpoint by a signed fleet checkpoint.
import { NoteSigner, openSignedCheckpoint, parseVerifierKey, CheckpointError } from '../audit/checkpoint.js';
import { CompactRange, leafHash } from '../audit/merkle.js';
import type { FleetAuditStore, FleetLogEntry } from '../state/postgres/index.js';
import { seal, unseal } from './seal.js';

export const FLEET_LOG_ORIGIN = 'altrace.fleet/audit';
const KEY_NAME = 'altrace-fleet-audit';

/** What a leaf of the fleet log is: the node's log (its verifier key) and the checkpoint note it sent. */
export const entryLeaf = (e: Pick<FleetLogEntry, 'log' | 'note'>) => leafHash(Buffer.from(JSON.stringify([e.log, e.note])));

export interface FleetLogReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** Entries covered by a fleet checkpoint that verified. */
  signed_entries: number;
  verifier_key: string;
  problem: string | null;
}

export class FleetAuditLog {
  readonly #tree = new CompactRange();
  #signing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly store: FleetAuditStore,
    private readonly signer: NoteSigner,
  ) {}

  static async open(store: FleetAuditStore, secret: string): Promise<FleetAuditLog> {
    const stored = await store.loadOrCreateKey(() => {
      const s = NoteSigner.generate(KEY_NAME);
      return { keySealed: seal(Buffer.from(s.toPem()), secret), verifierKey: s.verifierKey };
    });
    return new FleetAuditLog(store, NoteSigner.fromPem(KEY_NAME, unseal(stored.keySealed, secret).toString('utf8')));
  }

  get verifierKey(): string {
    return this.signer.verifierKey;
  }

  /**
   * Reads the entries appended since the last call and signs a checkpoint over all of them (when
   * there are new ones). One at a time: the timer and a verify call overlapping would append the
   * same entries to the tree twice and sign a root no verifier could rebuild.
   */
  sign(now = Date.now()): Promise<void> {
    const next = this.#signing.then(() => this.#sign(now));
    this.#signing = next.catch(() => {});
    return next;
  }

  async #sign(now: number): Promise<void> {
    const before = this.#tree.size;
    for (;;) {
      const page = await this.store.entries(this.#tree.size);
      for (const e of page) this.#tree.append(entryLeaf(e));
      if (page.length < 10_000) break;
    }
    if (this.#tree.size === before && before > 0) return;
    if (this.#tree.size === 0) return;
    // Ed25519 signatures are deterministic: every replica signing this size writes the same note.
    await this.store.addFleetCheckpoint(this.#tree.size, this.signer.sign({ origin: FLEET_LOG_ORIGIN, size: this.#tree.size, root: this.#tree.root() }), now);
  }
}

/**
 * Checks the fleet log: each signed fleet checkpoint against the entries it covers, and each
 * entry against the node checkpoints stored for its log (`nodeCheckpoints`: log → notes).
 */
export async function verifyFleetLog(store: FleetAuditStore, verifierKey: string, nodeCheckpoints: ReadonlyMap<string, ReadonlySet<string>>): Promise<FleetLogReport> {
  const verifier = parseVerifierKey(verifierKey);
  const entries: FleetLogEntry[] = [];
  for (;;) {
    const page = await store.entries(entries.length);
    entries.push(...page);
    if (page.length < 10_000) break;
  }
  const checkpoints = await store.fleetCheckpoints();
  const report = (problem: string | null, signed: number): FleetLogReport => ({ ok: problem === null, entries: entries.length, checkpoints: checkpoints.length, signed_entries: signed, verifier_key: verifierKey, problem });
  for (const [i, e] of entries.entries()) {
    if (e.seq !== i) return report(`fleet log entry ${e.seq} is out of place: entries were deleted`, 0);
    if (!nodeCheckpoints.get(e.log)?.has(e.note)) return report(`fleet log entry ${e.seq} (node ${e.nodeId}) names a checkpoint the node's log no longer holds`, 0);
  }
  const tree = new CompactRange();
  let signed = 0;
  for (const c of checkpoints) {
    let cp;
    try {
      cp = openSignedCheckpoint(c.note, verifier);
    } catch (err) {
      if (err instanceof CheckpointError) return report(`fleet checkpoint of size ${c.size}: ${err.message}`, signed);
      throw err;
    }
    if (cp.size > entries.length) return report(`fleet checkpoint ${cp.size} covers more entries than the log holds (${entries.length}): entries were deleted`, signed);
    while (tree.size < cp.size) tree.append(entryLeaf(entries[tree.size]!));
    if (!tree.root().equals(cp.root)) return report(`fleet log entries 0..${cp.size - 1} do not hash to the root signed in the fleet checkpoint of size ${cp.size}: an entry was changed`, signed);
    signed = cp.size;
  }
  return report(null, signed);
}
