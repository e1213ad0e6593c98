// Ships a node's audit log to its control plane (docs/fleet.md, "One audit record"). The log
// stays the node's own (written locally, never waiting on the network); this reads what the
// writer put on disk and sends it in order, one batch in flight, from where the control plane
// says it needs (AuditAck.next_seq) — so a batch lost with a stream is sent again, and one sent
// twice is stored once.
import { closeSync, existsSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Logger } from '../../../proxy/src/index.js';
import { auditPaths, MAX_RECORD_BYTES } from '../audit/files.js';
import type { FrameLink } from '../fleet/frames.js';

const BATCH_BYTES = 512 << 10;
const BATCH_RECORDS = 2000;
const SHIP_EVERY_MS = 1000;
const ACK_TIMEOUT_MS = 10_000;
/** A checkpoint line is a few hundred bytes: the newest is in the file's last few KB. */
const CHECKPOINT_TAIL_BYTES = 8_192;


export class AuditShipper {
  /** What the control plane needs next; null until it says (after each Hello). */
  #nextSeq: number | null = null;
  /** Where record #offsetSeq begins in records.log. */
  #offset = 0;
  #offsetSeq = 0;
  #inFlight: { upTo: number; bytes: number; since: number } | null = null;
  #checkpointSent = '';
  #readBuffer = Buffer.alloc(0);
  readonly #timer: NodeJS.Timeout;
  #link: FrameLink | null = null;

  constructor(
    private readonly stateDir: string,
    readonly verifierKey: string,
    private readonly logger: Logger,
  ) {
    this.#timer = setInterval(() => this.#ship(), SHIP_EVERY_MS);
    this.#timer.unref();
  }

  /** The stream to ship on (null: none now; shipping resumes from the next ack after a Hello). */
  set link(l: FrameLink | null) {
    this.#link = l;
    this.#nextSeq = null;
    this.#inFlight = null;
  }

  onAck(nextSeq: number): void {
    const f = this.#inFlight;
    if (f && nextSeq === f.upTo) {
      this.#offset += f.bytes;
      this.#offsetSeq = f.upTo;
    }
    this.#inFlight = null;
    this.#nextSeq = nextSeq;
    this.#ship();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  #ship(): void {
    const now = Date.now();
    if (this.#inFlight && now - this.#inFlight.since > ACK_TIMEOUT_MS) this.#inFlight = null;
    if (!this.#link || this.#nextSeq === null || this.#inFlight) return;
    try {
      const { framed, count } = this.#readFrom(this.#nextSeq);
      const checkpoint = this.#latestCheckpoint();
      if (count === 0 && checkpoint === this.#checkpointSent) return;
      const sent = this.#link.send({ audit_batch: { first_seq: this.#nextSeq, framed, count, checkpoint } });
      if (!sent) return;
      this.#checkpointSent = checkpoint;
      this.#inFlight = { upTo: this.#nextSeq + count, bytes: framed.length, since: now };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'audit log not shipped this time; retrying');
    }
  }

  /** Whole records from `seq` on (at most one batch), framed as in the file, and how many. */
  #readFrom(seq: number): { framed: Buffer; count: number } {
    const file = auditPaths(this.stateDir).records;
    if (!existsSync(file)) return { framed: Buffer.alloc(0), count: 0 };
    const fd = openSync(file, 'r');
    try {
      // The control plane asked for another place than the one known (it lost a batch, or this
      // process is new): walk the frames from the start to find it.
      if (seq !== this.#offsetSeq) this.#seek(fd, seq);
      const size = fstatSync(fd).size;
      const want = Math.min(size - this.#offset, BATCH_BYTES + 4 + MAX_RECORD_BYTES);
      if (want <= 0) return { framed: Buffer.alloc(0), count: 0 };
      // One read buffer for the life of the shipper: a batch a second of fresh megabytes would be
      // garbage for the collector on the node's hot path. The frame the batch goes out in copies it.
      if (this.#readBuffer.length < want) this.#readBuffer = Buffer.allocUnsafe(want);
      const buf = this.#readBuffer;
      const got = readSync(fd, buf, 0, want, this.#offset);
      let count = 0;
      let at = 0;
      while (at + 4 <= got && count < BATCH_RECORDS && at < BATCH_BYTES) {
        const length = buf.readUInt32BE(at);
        if (length > MAX_RECORD_BYTES || at + 4 + length > got) break;
        count++;
        at += 4 + length;
      }
      return { framed: buf.subarray(0, at), count };
    } finally {
      closeSync(fd);
    }
  }

  #seek(fd: number, seq: number): void {
    const head = Buffer.allocUnsafe(4);
    let offset = 0;
    let n = 0;
    while (n < seq && readSync(fd, head, 0, 4, offset) === 4) {
      offset += 4 + head.readUInt32BE(0);
      n++;
    }
    this.#offset = offset;
    this.#offsetSeq = n;
    if (n < seq) throw new Error(`the control plane needs record ${seq}, but the log holds ${n}: was it replaced?`);
  }

  /** The last line of checkpoints.log (one JSON line per checkpoint), read from the file's end: the file only grows. */
  #latestCheckpoint(): string {
    const file = auditPaths(this.stateDir).checkpoints;
    if (!existsSync(file)) return '';
    const fd = openSync(file, 'r');
    try {
      const size = fstatSync(fd).size;
      const want = Math.min(size, CHECKPOINT_TAIL_BYTES);
      const buf = Buffer.allocUnsafe(want);
      readSync(fd, buf, 0, want, size - want);
      const lines = buf.toString('utf8').split('\n').filter(Boolean);
      const last = lines[lines.length - 1];
      if (!last) return '';
      return (JSON.parse(last) as { note?: string }).note ?? '';
    } catch {
      return '';
    } finally {
      closeSync(fd);
    }
  }
}
