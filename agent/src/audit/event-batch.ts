// Audit events encoded straight into the batch that goes to the writer. The encoding is
// the one protobufjs makes for records.ts: same fields, same order, same bytes (proto3 scalars
// at their default left out, repeated elements never), held together by a property test. It is
// written by hand because protobufjs builds an object per field and a buffer per event, and
// decisions are encoded on the request path.
import { bounded } from '../../../proxy/src/core/bounded.js';
import { AUDIT_ITEM_CHARS, AUDIT_LIST_ITEMS, AUDIT_STRING_CHARS, encodeEvent, writeVarint, type AuditEvent, type ControlFields, type DecisionFields, type PrincipalFields } from './records.js';

const VARINT = 0;
const FIXED64 = 1;
const BYTES = 2;
/** A string whose UTF-16 length is below this has a UTF-8 length below 128: a one-byte length prefix. */
const SHORT_STRING = 43;

/** Thrown inside the encoder for a value only protobufjs's conversions cover (the event is encoded by it instead). */
class Unusual extends Error {}

/**
 * Events packed as the writer reads them (records.ts unpackEvents: a 4-byte little-endian length
 * before each encoded event), in one buffer reused batch after batch.
 */
export class EventBatch {
  #buf: Buffer;
  #pos = 0;
  #count = 0;
  readonly #initialBytes: number;

  constructor(initialBytes = 64 * 1024) {
    this.#initialBytes = initialBytes;
    this.#buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  get count(): number {
    return this.#count;
  }

  add(event: AuditEvent): void {
    const start = this.#pos;
    this.#pos += 4;
    try {
      this.#event(event);
    } catch (err) {
      if (!(err instanceof Unusual)) throw err;
      this.#pos = start + 4;
      const bytes = encodeEvent(event);
      this.#ensure(bytes.length);
      this.#buf.set(bytes, this.#pos);
      this.#pos += bytes.length;
    }
    this.#buf.writeUInt32LE(this.#pos - start - 4, start);
    this.#count++;
  }

  /** The packed events so far, as a transferable buffer of exactly their size; the batch starts empty again. */
  take(): ArrayBuffer {
    const out = new ArrayBuffer(this.#pos);
    new Uint8Array(out).set(this.#buf.subarray(0, this.#pos));
    this.#pos = 0;
    this.#count = 0;
    // One burst of large events does not keep a large buffer for the life of the process.
    if (this.#buf.length > 16 * this.#initialBytes) this.#buf = Buffer.allocUnsafeSlow(this.#initialBytes);
    return out;
  }

  #event(e: AuditEvent): void {
    this.#uint(2, e.time);
    if (e.principal != null) this.#message(4, e.principal, this.#principal);
    if ('decision' in e && e.decision != null) this.#message(10, e.decision, this.#decision);
    if ('control' in e && e.control != null) this.#message(11, e.control, this.#control);
  }

  readonly #principal = (p: PrincipalFields): void => {
    this.#string(1, p.key_id);
    this.#string(2, p.agent);
    this.#string(3, p.team);
    this.#string(4, p.cost_center);
    this.#string(5, p.pod);
    this.#string(6, p.namespace);
    this.#string(7, p.owner);
    this.#string(8, p.service_account);
    this.#string(9, p.node);
  };

  readonly #decision = (d: DecisionFields): void => {
    this.#string(1, d.request_id);
    this.#string(2, d.provider);
    this.#string(3, d.upstream);
    this.#string(4, d.operation);
    this.#string(5, d.model);
    if (d.stream) this.#varintField(6, 1);
    this.#string(7, d.outcome);
    this.#string(8, d.reason);
    this.#string(9, d.stage);
    this.#string(10, d.detail);
    this.#uint(11, d.status, true);
    this.#string(12, d.contract);
    this.#double(13, d.cost_usd);
    this.#uint(14, d.input_tokens);
    this.#uint(15, d.output_tokens);
    this.#string(16, d.price_table);
    this.#strings(17, d.warnings);
    this.#string(18, d.function);
    this.#string(19, d.run);
    this.#uint(20, d.fragments, true);
    this.#strings(21, d.labels);
    this.#strings(22, d.rules);
    this.#strings(23, d.contracts);
  };

  readonly #control = (c: ControlFields): void => {
    this.#string(1, c.operator);
    this.#string(2, c.operator_team);
    this.#string(3, c.action);
    this.#string(4, c.target);
    this.#uint(5, c.status, true);
    this.#string(6, c.error);
  };

  /** A nested message: written after a one-byte length, moved along if its length needs more. */
  #message<T>(field: number, value: T, write: (v: T) => void): void {
    this.#ensure(16);
    this.#tag(field, BYTES);
    const lengthAt = this.#pos;
    this.#pos += 1;
    write(value);
    const length = this.#pos - lengthAt - 1;
    const extra = varintSize(length) - 1;
    if (extra > 0) {
      this.#ensure(extra);
      this.#buf.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.#pos);
      this.#pos += extra;
    }
    const end = this.#pos;
    this.#pos = lengthAt;
    this.#varint(length);
    this.#pos = end;
  }

  /** A string field; left out when empty, unless it is an element of a repeated field. */
  #string(field: number, value: string | undefined, element = false): void {
    if (value == null) return;
    if (typeof value !== 'string') throw new Unusual();
    const s = bounded(value, element ? AUDIT_ITEM_CHARS : AUDIT_STRING_CHARS);
    if (s === '' && !element) return;
    const short = s.length < SHORT_STRING;
    const bytes = short ? 0 : Buffer.byteLength(s, 'utf8');
    this.#ensure(16 + (short ? s.length * 3 : bytes));
    this.#tag(field, BYTES);
    if (short) {
      const buf = this.#buf;
      const at = this.#pos + 1;
      // ASCII byte by byte: cheaper than a call into the encoder for the ids and names most fields hold.
      let i = 0;
      for (; i < s.length; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[at + i] = c;
      }
      const written = i === s.length ? i : buf.write(s, at);
      buf[this.#pos] = written;
      this.#pos = at + written;
      return;
    }
    this.#varint(bytes);
    this.#pos += this.#buf.write(s, this.#pos);
  }

  #strings(field: number, values: readonly string[] | undefined): void {
    if (values == null) return;
    if (!Array.isArray(values)) throw new Unusual();
    const n = Math.min(values.length, AUDIT_LIST_ITEMS);
    for (let i = 0; i < n; i++) this.#string(field, values[i], true);
  }

  /** An unsigned integer field (uint32, uint64, int64 holding a time); others go to protobufjs. */
  #uint(field: number, value: number | undefined, bits32 = false): void {
    if (value == null) return;
    if (!Number.isSafeInteger(value) || value < 0 || (bits32 && value > 0xffffffff)) throw new Unusual();
    if (value === 0) return;
    this.#varintField(field, value);
  }

  #varintField(field: number, value: number): void {
    this.#ensure(16);
    this.#tag(field, VARINT);
    this.#varint(value);
  }

  #double(field: number, value: number | undefined): void {
    if (value == null) return;
    const n = typeof value === 'number' ? value : Number(value);
    if (Object.is(n, 0)) return;
    this.#ensure(16);
    this.#tag(field, FIXED64);
    this.#buf.writeDoubleLE(n, this.#pos);
    this.#pos += 8;
  }

  #tag(field: number, wire: number): void {
    this.#varint((field << 3) | wire);
  }

  #varint(n: number): void {
    this.#pos = writeVarint(this.#buf, this.#pos, n);
  }

  #ensure(bytes: number): void {
    if (this.#pos + bytes <= this.#buf.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.#buf.length * 2, this.#pos + bytes));
    this.#buf.copy(grown, 0, 0, this.#pos);
    this.#buf = grown;
  }
}

function varintSize(n: number): number {
  let size = 1;
  while (n > 0x7f) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}
