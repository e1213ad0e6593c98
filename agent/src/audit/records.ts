// The audit record's protobuf encoding (proto/altrace/v1/audit.proto), loaded once per thread.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import protobuf from 'protobufjs';
import { packageRoot } from '../paths.js';
import { AltraceError } from '../errors.js';
// The file alone, not proxy/'s index: a small import for what every audit module needs.
import { bounded } from '../../../proxy/src/core/bounded.js';

export interface PrincipalFields {
  key_id?: string;
  agent?: string;
  team?: string;
  cost_center?: string;
  pod?: string;
  namespace?: string;
  owner?: string;
  service_account?: string;
  node?: string;
}

export interface DecisionFields {
  request_id: string;
  provider?: string;
  upstream?: string;
  operation?: string;
  model?: string;
  stream?: boolean;
  outcome: string;
  reason: string;
  stage?: string;
  detail?: string;
  status?: number;
  contract?: string;
  cost_usd?: number;
  input_tokens?: number;
  output_tokens?: number;
  price_table?: string;
  warnings?: readonly string[];
  function?: string;
  run?: string;
  fragments?: number;
  labels?: readonly string[];
  rules?: readonly string[];
  contracts?: readonly string[];
}

export interface ControlFields {
  operator: string;
  operator_team?: string;
  action: string;
  target?: string;
  status: number;
  error?: string;
}

/** What the agent hands the audit writer; seq, time and chaining are added there. */
export type AuditEvent = { time: number; principal?: PrincipalFields } & ({ decision: DecisionFields } | { control: ControlFields });

export interface AuditRecord {
  seq: number;
  time_unix_ms: number;
  prev_leaf_hash: Uint8Array;
  principal?: PrincipalFields;
  decision?: DecisionFields;
  control?: ControlFields;
}

/** Parses one of proto/'s schemas with its field names kept as written (snake_case, as on the wire). */
export function loadProto(file: string): protobuf.Root {
  return protobuf.parse(readFileSync(join(packageRoot, 'proto', file), 'utf8'), { keepCase: true }).root;
}

const root = loadProto('altrace/v1/audit.proto');
const RecordType = root.lookupType('altrace.v1.AuditRecord');

export function encodeRecord(r: AuditRecord): Uint8Array {
  return RecordType.encode(RecordType.fromObject(r)).finish();
}

/**
 * An event encoded as the record's fields without its place in the log (seq, previous leaf
 * hash). Protobuf fields may come in any order and encodings concatenate, so the writer makes
 * the whole record by putting those two fields in front (chainRecord).
 */
export function encodeEvent(e: AuditEvent): Uint8Array {
  return RecordType.encode(RecordType.fromObject({ time_unix_ms: e.time, ...boundEvent(e) })).finish();
}

/**
 * The audit log's own bounds, whatever its callers pass: a string field keeps at most
 * AUDIT_STRING_CHARS characters, a list AUDIT_LIST_ITEMS entries of AUDIT_ITEM_CHARS each. With
 * them no record comes near the reader's MAX_RECORD_BYTES (files.ts), so the writer never
 * writes what verification and the next start could not read back.
 */
export const AUDIT_STRING_CHARS = 2048;
export const AUDIT_LIST_ITEMS = 32;
export const AUDIT_ITEM_CHARS = 256;


function boundFields<T extends object>(fields: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') out[k] = bounded(v, AUDIT_STRING_CHARS);
    else if (Array.isArray(v)) out[k] = v.slice(0, AUDIT_LIST_ITEMS).map((x) => (typeof x === 'string' ? bounded(x, AUDIT_ITEM_CHARS) : x));
    else out[k] = v;
  }
  return out as T;
}

function boundEvent(e: AuditEvent): AuditEvent {
  const out: Record<string, unknown> = { ...e };
  if (e.principal) out.principal = boundFields(e.principal);
  if ('decision' in e && e.decision) out.decision = boundFields(e.decision);
  if ('control' in e && e.control) out.control = boundFields(e.control);
  return out as AuditEvent;
}

/**
 * The record's place in the log (seq, previous leaf hash) as protobufjs encodes those two fields
 * (a default value left out), written at `at`; returns where it ends. The writer puts it in front
 * of each event it receives: written by hand, as protobufjs builds a message and a buffer per call.
 */
export function writeChainHead(out: Buffer, at: number, seq: number, prevLeafHash: Uint8Array): number {
  if (seq !== 0) {
    out[at++] = 0x08; // field 1, varint
    at = writeVarint(out, at, seq);
  }
  if (prevLeafHash.length !== 0) {
    out[at++] = 0x1a; // field 3, length-delimited
    at = writeVarint(out, at, prevLeafHash.length);
    out.set(prevLeafHash, at);
    at += prevLeafHash.length;
  }
  return at;
}

/** The most bytes writeChainHead writes for a previous leaf hash of this length. */
export function chainHeadBound(prevLength: number): number {
  return 1 + 10 + 1 + 5 + prevLength;
}

/** A non-negative safe integer as a base-128 varint at `at`; returns where it ends. Division, not bit operations: values may pass 2^32. */
export function writeVarint(out: Buffer, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

export function chainRecord(seq: number, prevLeafHash: Uint8Array, event: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(chainHeadBound(prevLeafHash.length) + event.length);
  const at = writeChainHead(out, 0, seq, prevLeafHash);
  out.set(event, at);
  return out.subarray(0, at + event.length);
}

/** The events of a batch (event-batch.ts): a 4-byte little-endian length before each encoded event. */
export function unpackEvents(packed: ArrayBuffer): Uint8Array[] {
  const buf = Buffer.from(packed);
  const out: Uint8Array[] = [];
  for (let at = 0; at < buf.length; ) {
    const len = buf.readUInt32LE(at);
    out.push(buf.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

export class RecordDecodeError extends AltraceError {
  constructor(message: string) {
    super('ALT_AUDIT_RECORD_INVALID', message);
  }
}

export function decodeRecord(bytes: Uint8Array): AuditRecord {
  let message;
  try {
    message = RecordType.decode(bytes);
  } catch (err) {
    throw new RecordDecodeError(`not an audit record: ${(err as Error).message}`);
  }
  return RecordType.toObject(message, { longs: Number, bytes: Buffer, defaults: true, oneofs: false }) as AuditRecord;
}

/** A record as JSON for export and the API: hashes in hex, empty fields dropped. */
export function recordJson(r: AuditRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { seq: r.seq, time: new Date(r.time_unix_ms).toISOString() };
  if (r.principal) out.principal = prune(r.principal);
  if (r.decision && r.decision.request_id) out.decision = prune(r.decision);
  if (r.control && r.control.action) out.control = prune(r.control);
  return out;
}

function prune(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== 0 && v !== false && !(Array.isArray(v) && v.length === 0)));
}
