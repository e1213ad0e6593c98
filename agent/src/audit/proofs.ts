import { openSignedCheckpoint, parseVerifierKey } from './checkpoint.js';
import { consistencyProof, inclusionProof, leafHash, verifyConsistency, verifyInclusion } from './merkle.js';
import type { LoadedLog } from './verify.js';
import { AltraceError } from '../errors.js';

// Proofs as self-contained JSON documents: each carries the signed checkpoint(s) it is
// relative to, so a holder of the verifier key needs nothing else (docs/audit.md).

export interface InclusionDocument {
  type: 'inclusion';
  index: number;
  /** The record's protobuf bytes, base64: decode it to see what was proved. */
  record: string;
  checkpoint: string;
  proof: string[];
}

export interface ConsistencyDocument {
  type: 'consistency';
  old_checkpoint: string;
  new_checkpoint: string;
  proof: string[];
}

export class ProofError extends AltraceError {
  constructor(message: string) {
    super('ALT_PROOF_INVALID', message);
  }
}

function checkpointFor(log: LoadedLog, size: number | undefined) {
  const list = log.checkpoints;
  if (list.length === 0) throw new ProofError('the log has no checkpoint yet');
  if (size === undefined) return list[list.length - 1]!;
  const c = list.find((x) => x.size === size);
  if (!c) throw new ProofError(`no checkpoint of size ${size} (have ${list.map((x) => x.size).join(', ')})`);
  return c;
}

export function proveInclusion(log: LoadedLog, index: number, size?: number): InclusionDocument {
  const c = checkpointFor(log, size);
  if (!Number.isInteger(index) || index < 0 || index >= c.size) throw new ProofError(`record ${index} is not in the checkpoint of size ${c.size}`);
  return {
    type: 'inclusion',
    index,
    record: log.records[index]!.toString('base64'),
    checkpoint: c.note,
    proof: inclusionProof(log.leaves, index, c.size).map((h) => h.toString('base64')),
  };
}

export function proveConsistency(log: LoadedLog, from: number, to?: number): ConsistencyDocument {
  const older = checkpointFor(log, from);
  const newer = checkpointFor(log, to);
  if (older.size > newer.size) throw new ProofError(`checkpoint ${older.size} is newer than ${newer.size}`);
  return {
    type: 'consistency',
    old_checkpoint: older.note,
    new_checkpoint: newer.note,
    proof: consistencyProof(log.leaves, older.size, newer.size).map((h) => h.toString('base64')),
  };
}

/** Checks a proof document with nothing but the verifier key. Throws ProofError naming what failed. */
export function checkProof(doc: InclusionDocument | ConsistencyDocument, verifierKey: string): string {
  const verifier = parseVerifierKey(verifierKey);
  const hashes = (xs: unknown) => {
    if (!Array.isArray(xs) || xs.some((x) => typeof x !== 'string')) throw new ProofError('proof must be an array of base64 hashes');
    return (xs as string[]).map((x) => Buffer.from(x, 'base64'));
  };
  if (doc.type === 'inclusion') {
    const c = openSignedCheckpoint(doc.checkpoint, verifier);
    if (!verifyInclusion(doc.index, c.size, leafHash(Buffer.from(doc.record, 'base64')), hashes(doc.proof), c.root)) {
      throw new ProofError(`record ${doc.index} is not included in the signed tree of size ${c.size}`);
    }
    return `record ${doc.index} is included in the signed tree of size ${c.size}`;
  }
  if (doc.type === 'consistency') {
    const a = openSignedCheckpoint(doc.old_checkpoint, verifier);
    const b = openSignedCheckpoint(doc.new_checkpoint, verifier);
    if (a.origin !== b.origin) throw new ProofError('the checkpoints belong to different logs');
    if (!verifyConsistency(a.size, b.size, a.root, b.root, hashes(doc.proof))) throw new ProofError(`the tree of size ${b.size} does not extend the tree of size ${a.size}`);
    return `the signed tree of size ${b.size} extends the signed tree of size ${a.size}`;
  }
  throw new ProofError('unknown proof type (inclusion or consistency)');
}
