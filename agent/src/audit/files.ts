// The audit log on disk, in the state directory:
//   audit/records.log      each record framed as a 4-byte big-endian length, then its protobuf bytes
//   audit/checkpoints.log  one JSON line per signed checkpoint: {"size": N, "note": "<signed note>"}
//   audit/signing.pem      the Ed25519 key that signs checkpoints (0600)
//   audit/verifier.key     its verifier key, <name>+<key id>+<base64 key>: publish it
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AuditPaths {
  dir: string;
  records: string;
  checkpoints: string;
  key: string;
  verifier: string;
}

export function auditPaths(stateDir: string): AuditPaths {
  const dir = join(stateDir, 'audit');
  return { dir, records: join(dir, 'records.log'), checkpoints: join(dir, 'checkpoints.log'), key: join(dir, 'signing.pem'), verifier: join(dir, 'verifier.key') };
}

export function frame(record: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(4 + record.length);
  out.writeUInt32BE(record.length, 0);
  out.set(record, 4);
  return out;
}

export interface Frames {
  records: Buffer[];
  /** Bytes up to the end of the last whole frame. */
  wholeBytes: number;
  /** Bytes after it: a write torn by a crash, or damage. */
  tailBytes: number;
  /**
   * Set when the bytes after the last whole frame cannot be a torn write: a frame claims more
   * than MAX_RECORD_BYTES. Those bytes may hold records; nothing may cut them off.
   */
  damage: { index: number; offset: number; claimed: number } | null;
}

/** The largest record the writer writes and the reader reads: the two agree on one limit. */
export const MAX_RECORD_BYTES = 1 << 20;

export function readFrames(file: string): Frames {
  if (!existsSync(file)) return { records: [], wholeBytes: 0, tailBytes: 0, damage: null };
  const data = readFileSync(file);
  const records: Buffer[] = [];
  let at = 0;
  let damage: Frames['damage'] = null;
  while (at + 4 <= data.length) {
    const length = data.readUInt32BE(at);
    if (length > MAX_RECORD_BYTES) {
      damage = { index: records.length, offset: at, claimed: length };
      break;
    }
    if (at + 4 + length > data.length) break;
    records.push(data.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return { records, wholeBytes: at, tailBytes: data.length - at, damage };
}

export interface StoredCheckpoint {
  size: number;
  note: string;
}

export function readCheckpoints(file: string): { checkpoints: StoredCheckpoint[]; malformedLine: number | null } {
  if (!existsSync(file)) return { checkpoints: [], malformedLine: null };
  const checkpoints: StoredCheckpoint[] = [];
  const lines = readFileSync(file, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line === '') continue;
    try {
      const c = JSON.parse(line) as StoredCheckpoint;
      if (typeof c.size !== 'number' || typeof c.note !== 'string') throw new Error('shape');
      checkpoints.push(c);
    } catch {
      return { checkpoints, malformedLine: i + 1 };
    }
  }
  return { checkpoints, malformedLine: null };
}
