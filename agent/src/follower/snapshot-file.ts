// The follower's last known state on disk (docs/fleet.md, "The node stream"): a node restarts
// with what it last knew, even when its control plane is out of reach. One Snapshot message
// (proto/altrace/v1/fleet.proto), written whole to a temporary file, fsynced, then renamed.
import { existsSync, readFileSync } from 'node:fs';
import type protobuf from 'protobufjs';
import { loadProto } from '../audit/records.js';
import { AltraceError } from '../errors.js';
import { writeFileDurably } from '../state/durable-file.js';
import type { Change, ChangeKind } from '../state/postgres/index.js';

export class SnapshotFileError extends AltraceError {
  constructor(message: string) {
    super('ALT_FLEET_SNAPSHOT_UNREADABLE', message);
  }
}

const SnapshotType: protobuf.Type = loadProto('altrace/v1/fleet.proto').lookupType('altrace.v1.fleet.Snapshot');

/** A Change as the stream and the file carry it: kind and op apart, the payload as JSON bytes. */
export function toWire(c: Change): Record<string, unknown> {
  const [kind, op] = c.kind.split('.') as [string, string];
  return { version: c.version, kind, op, payload: Buffer.from(JSON.stringify(c.payload)), committed_at: c.at };
}

export function fromWire(w: { version: number; kind: string; op: string; payload: Buffer; committed_at: number }): Change {
  return { version: w.version, kind: `${w.kind}.${w.op}` as ChangeKind, payload: JSON.parse(w.payload.toString('utf8')), at: w.committed_at };
}

export function writeSnapshotFile(path: string, version: number, state: readonly Change[]): void {
  writeFileDurably(path, SnapshotType.encode(SnapshotType.fromObject({ version, state: state.map(toWire) })).finish());
}

/** The state last written, or null when there is no file yet; a file that cannot be read is an error, never an empty state. */
export function readSnapshotFile(path: string): { version: number; state: Change[] } | null {
  if (!existsSync(path)) return null;
  try {
    const o = SnapshotType.toObject(SnapshotType.decode(readFileSync(path)), { longs: Number, bytes: Buffer, defaults: true }) as { version: number; state: Parameters<typeof fromWire>[0][] };
    return { version: o.version, state: o.state.map(fromWire) };
  } catch (err) {
    throw new SnapshotFileError(`the fleet snapshot ${path} cannot be read (${(err as Error).message}): move it aside to start from the control plane's next snapshot`);
  }
}
