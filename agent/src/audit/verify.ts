import { existsSync, readFileSync } from 'node:fs';
import { CheckpointError, openSignedCheckpoint, parseVerifierKey, type Checkpoint, type NoteVerifier } from './checkpoint.js';
import { auditPaths, MAX_RECORD_BYTES, readCheckpoints, readFrames } from './files.js';
import { CompactRange, leafHash, type Hash } from './merkle.js';
import { decodeRecord, RecordDecodeError } from './records.js';
import { AltraceError } from '../errors.js';

export interface VerifyReport {
  ok: boolean;
  records: number;
  checkpoints: number;
  /** The first record that is not what the signed log says, when one is not. */
  firstBadRecord: number | null;
  problem: string | null;
  verifierKey: string;
}

export interface LoadedLog {
  records: Buffer[];
  leaves: Hash[];
  checkpoints: { size: number; note: string; checkpoint: Checkpoint }[];
  verifierKey: string;
}

export class AuditVerifyError extends AltraceError {
  constructor(message: string) {
    super('ALT_AUDIT_UNVERIFIABLE', message);
  }
}

export function verifierKeyOf(stateDir: string, explicit?: string): string {
  if (explicit) return explicit.trim();
  const file = auditPaths(stateDir).verifier;
  if (!existsSync(file)) throw new AuditVerifyError(`no verifier key at ${file}: pass --key <name>+<id>+<key>`);
  return readFileSync(file, 'utf8').trim();
}

/**
 * Checks the whole log: every record decodes, is numbered in order and names the hash of
 * the one before it; every checkpoint is signed by the verifier key and its root is the
 * Merkle root of that many records. Reports the first record that fails.
 */
export function verifyAuditLog(stateDir: string, explicitKey?: string, options: { tailIsWrite?: boolean } = {}): VerifyReport {
  const verifierKey = verifierKeyOf(stateDir, explicitKey);
  const paths = auditPaths(stateDir);
  const { records, tailBytes, damage } = readFrames(paths.records);
  const { checkpoints, malformedLine } = readCheckpoints(paths.checkpoints);
  const problems: [number, string][] = [];
  // While the agent runs, bytes after the last whole record may be a write in progress.
  if (damage) problems.push([damage.index, `the frame after record ${damage.index - 1} (byte ${damage.offset}) claims ${damage.claimed} bytes, over the ${MAX_RECORD_BYTES}-byte record limit: the log cannot be read past it`]);
  else if (tailBytes > 0 && !options.tailIsWrite) problems.push([records.length, `${tailBytes} bytes after record ${records.length - 1} are not a whole record`]);
  if (malformedLine !== null) problems.push([records.length, `checkpoints.log line ${malformedLine} is not a checkpoint`]);
  const r = verifyRecords(records, checkpoints, parseVerifierKey(verifierKey), problems, malformedLine === null ? 'checkpoints.log is missing or empty; keep a copy where the node cannot rewrite it' : null);
  return { ...r, verifierKey };
}

/**
 * The checks of a log however it is held (files on the node, rows on the control plane): every
 * record decodes, is numbered in order and names the hash of the one before it; every checkpoint
 * is signed by the verifier and its root is the Merkle root of that many records. `problems`
 * may hold findings made before (the caller's); the first by record decides the report.
 */
export function verifyRecords(
  records: readonly Buffer[],
  checkpoints: readonly { size: number; note: string }[],
  verifier: NoteVerifier,
  problems: [number, string][] = [],
  /** Why there may be no checkpoint, for the finding; null: their absence is already explained. */
  noCheckpointHint: string | null = 'no checkpoint was stored',
): Omit<VerifyReport, 'verifierKey'> & { signedSize: number } {
  const bad = (index: number, problem: string) => problems.push([index, problem]);
  const leaves: Hash[] = [];
  for (const [i, bytes] of records.entries()) {
    const leaf = leafHash(bytes);
    try {
      const r = decodeRecord(bytes);
      if (r.seq !== i) bad(i, `record ${i} carries sequence number ${r.seq}: records were inserted, deleted or reordered`);
      else if (i > 0 && !Buffer.from(r.prev_leaf_hash).equals(leaves[i - 1]!)) bad(i - 1, `record ${i} does not follow record ${i - 1}: record ${i - 1} was changed`);
    } catch (err) {
      if (!(err instanceof RecordDecodeError)) throw err;
      bad(i, `record ${i} is not a valid audit record`);
    }
    leaves.push(leaf);
  }

  const tree = new CompactRange();
  let verifiedSize = 0;
  let lastSize = 0;
  for (const [j, stored] of checkpoints.entries()) {
    let c: Checkpoint;
    try {
      c = openSignedCheckpoint(stored.note, verifier);
    } catch (err) {
      if (!(err instanceof CheckpointError)) throw err;
      bad(lastSize, `checkpoint ${j + 1}: ${err.message}`);
      break;
    }
    if (c.size < lastSize) {
      bad(c.size, `checkpoint ${j + 1} (size ${c.size}) is smaller than the one before it (${lastSize})`);
      break;
    }
    lastSize = c.size;
    if (c.size > records.length) {
      bad(records.length, `the log has ${records.length} records but checkpoint ${j + 1} signed ${c.size}: it was truncated`);
      break;
    }
    while (tree.size < c.size) tree.append(leaves[tree.size]!);
    if (!tree.root().equals(c.root)) {
      // A record-level finding inside this range names the record; otherwise the range is all we know.
      if (!problems.some(([index]) => index >= verifiedSize && index < c.size)) {
        bad(verifiedSize, `records ${verifiedSize}..${c.size - 1} do not hash to the root signed in checkpoint ${j + 1}`);
      }
      break;
    }
    verifiedSize = c.size;
  }

  // Records and their hash chain can be rewritten consistently by whoever can write them: only a
  // signature says they are the ones the node wrote. No checkpoint, nothing verified.
  if (records.length > 0 && checkpoints.length === 0 && noCheckpointHint !== null) {
    bad(0, `no signed checkpoint: none of the ${records.length} records can be checked against a signature (${noCheckpointHint})`);
  }
  problems.sort((a, b) => a[0] - b[0]);
  const first = problems[0];
  return { ok: first === undefined, records: records.length, checkpoints: checkpoints.length, firstBadRecord: first ? first[0] : null, problem: first ? first[1] : null, signedSize: verifiedSize };
}

/** The log as proofs need it: every leaf, and the checkpoints that verify. */
export function loadLog(stateDir: string, explicitKey?: string): LoadedLog {
  const verifierKey = verifierKeyOf(stateDir, explicitKey);
  const verifier = parseVerifierKey(verifierKey);
  const paths = auditPaths(stateDir);
  const { records } = readFrames(paths.records);
  const checkpoints = readCheckpoints(paths.checkpoints).checkpoints.map((s) => ({ ...s, checkpoint: openSignedCheckpoint(s.note, verifier) }));
  return { records, leaves: records.map(leafHash), checkpoints, verifierKey };
}
