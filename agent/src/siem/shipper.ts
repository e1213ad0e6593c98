// Ships the audit log to a SIEM sink (docs/security.md, "SIEM"), at least once, in order. The
// spool is the audit log itself: records are on disk in order before anything is sent, so a sink
// that is down for an hour receives everything when it is back, from its cursor (byte offset and
// sequence number in the log, written with fsync once a batch is delivered). A transport that
// acknowledges (HTTP 2xx) delivers a batch when it answers; syslog over TCP acknowledges nothing,
// so its batch counts as delivered once the connection has stayed up `confirm_ms` after it was
// written, and a connection that breaks sends everything since the cursor again. A record may
// thus arrive twice; node and sequence number in each message let the receiver tell. A sink too
// far behind: `when_full` says whether the oldest records are skipped (counted, logged) or kept.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../../proxy/src/index.js';
import { decodeRecord, type AuditRecord } from '../audit/records.js';
import type { Origin } from './formats.js';

export interface SinkConfig {
  name: string;
  type: 'syslog' | 'ocsf' | 'otlp';
  /** syslog: host:port of the receiver. */
  address?: string;
  /** ocsf, otlp: the URL batches are POSTed to. */
  url?: string;
  /** syslog: TLS (RFC 5425); false, plain TCP. */
  tls: boolean;
  /** The CA the receiver's certificate chains to (PEM file); absent: the system's roots. */
  ca_file?: string;
  /** The name its certificate must carry (default: the host). */
  server_name?: string;
  /** ocsf, otlp: a file holding the bearer token sent as Authorization (read again at each batch). */
  token_file?: string;
  format: 'rfc5424' | 'cef';
  /** Records the sink may be behind before `when_full` applies. */
  max_lag_records: number;
  when_full: 'block' | 'drop_oldest';
  /** syslog: how long a written batch must be followed by a connection still up before it counts as delivered. */
  confirm_ms: number;
}

/** How a batch reaches the sink. */
export interface Transport {
  /** True when send() resolving means the sink has the batch (an HTTP 2xx). */
  readonly acknowledges: boolean;
  send(records: AuditRecord[]): Promise<void>;
  /** Whether the connection a batch went out on is still up (transports that do not acknowledge). */
  up(): boolean;
  /** Called when the connection dropped: what was not confirmed goes again. */
  onDrop(listener: () => void): void;
  close(): void;
}

export interface ShipperCounts {
  sent: number;
  dropped: number;
  failures: number;
  lag: number;
}

interface Cursor {
  offset: number;
  seq: number;
}

const BATCH = 500;
const MAX_RECORD_BYTES = 1 << 20;

export class Shipper {
  readonly counts: ShipperCounts = { sent: 0, dropped: 0, failures: 0, lag: 0 };
  /** Delivered: on disk, where a restart sends from. */
  #cursor: Cursor;
  /** Sent: where the next batch is read from. */
  #sendPos: Cursor;
  /** Sent, not yet confirmed by the connection staying up. */
  #pending: { pos: Cursor; at: number }[] = [];
  readonly #cursorFile: string;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #busy = false;
  #backoffMs = 500;
  #failing = false;
  #full = false;

  constructor(
    private readonly sink: SinkConfig,
    private readonly transport: Transport,
    private readonly recordsFile: string,
    stateDir: string,
    private readonly logger: Logger,
    private readonly pollMs = 200,
  ) {
    const dir = join(stateDir, 'siem');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#cursorFile = join(dir, `${sink.name}.cursor`);
    this.#cursor = existsSync(this.#cursorFile) ? (JSON.parse(readFileSync(this.#cursorFile, 'utf8')) as Cursor) : { offset: 0, seq: 0 };
    this.#sendPos = this.#cursor;
    transport.onDrop(() => this.#rewind());
  }

  get sinkName(): string {
    return this.sink.name;
  }

  /** More than max_lag_records behind, as of the last look at the log. */
  get full(): boolean {
    return this.#full;
  }

  get blocksWhenFull(): boolean {
    return this.sink.when_full === 'block';
  }

  get cap(): number {
    return this.sink.max_lag_records;
  }

  /** The last sequence number delivered. */
  get delivered(): number {
    return this.#cursor.seq;
  }

  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.transport.close();
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#round(), ms);
    this.#timer.unref();
  }

  async #round(): Promise<void> {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    let next = this.pollMs;
    try {
      this.#confirm();
      const batch = this.#read();
      if (batch.records.length > 0) {
        await this.transport.send(batch.records);
        const pos = { offset: batch.end, seq: batch.records[batch.records.length - 1]!.seq };
        if (this.transport.acknowledges) {
          this.#advance(pos);
          this.#sendPos = pos;
        } else {
          this.#sendPos = pos;
          this.#pending.push({ pos, at: Date.now() });
        }
        this.counts.sent += batch.records.length;
        this.#backoffMs = 500;
        if (this.#failing) this.logger.info({ sink: this.sink.name, from_seq: batch.records[0]!.seq }, 'SIEM sink reachable again; sending what waited');
        this.#failing = false;
        if (batch.more) next = 0;
      } else if (this.#pending.length > 0) next = Math.min(next, this.sink.confirm_ms);
    } catch (err) {
      // Back to the last delivered cursor: what was in flight goes again.
      this.counts.failures++;
      this.#rewind();
      if (!this.#failing) this.logger.warn({ sink: this.sink.name, err: (err as Error).message }, 'SIEM sink unreachable; records wait in the audit log');
      this.#failing = true;
      next = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, 30_000);
    } finally {
      this.#busy = false;
      this.#schedule(next);
    }
  }

  /** Batches written long enough ago on a connection still up: delivered. */
  #confirm(): void {
    if (!this.transport.up()) return;
    const before = Date.now() - this.sink.confirm_ms;
    let last: Cursor | null = null;
    while (this.#pending.length > 0 && this.#pending[0]!.at <= before) last = this.#pending.shift()!.pos;
    if (last) this.#advance(last);
  }

  #rewind(): void {
    this.#pending = [];
    this.#sendPos = this.#cursor;
  }

  /** Records after the send position (at most a batch), and where they end; past the cap, drop_oldest skips the oldest. */
  #read(): { records: AuditRecord[]; end: number; more: boolean } {
    if (!existsSync(this.recordsFile)) return { records: [], end: this.#sendPos.offset, more: false };
    const size = statSync(this.recordsFile).size;
    const fd = openSync(this.recordsFile, 'r');
    try {
      const head = Buffer.allocUnsafe(4);
      const frames: number[] = [];
      let at = this.#sendPos.offset;
      while (at + 4 <= size) {
        readSync(fd, head, 0, 4, at);
        const length = head.readUInt32BE(0);
        if (length > MAX_RECORD_BYTES || at + 4 + length > size) break;
        frames.push(at);
        at += 4 + length;
      }
      this.counts.lag = frames.length + this.#pending.length;
      const full = frames.length > this.sink.max_lag_records;
      if (full !== this.#full) {
        if (full && this.sink.when_full === 'block') this.logger.error({ sink: this.sink.name, lag: frames.length, max_lag_records: this.sink.max_lag_records }, 'SIEM sink full: new requests are refused (ALT_AUDIT_BACKLOG) until it catches up (when_full: block)');
        else if (!full) this.logger.info({ sink: this.sink.name }, 'SIEM sink caught up: no longer full');
      }
      this.#full = full;
      let start = 0;
      if (frames.length > this.sink.max_lag_records && this.sink.when_full === 'drop_oldest') {
        start = frames.length - this.sink.max_lag_records;
        this.counts.dropped += start;
        this.logger.warn({ sink: this.sink.name, dropped: start, max_lag_records: this.sink.max_lag_records }, 'SIEM sink too far behind: the oldest records are skipped (when_full: drop_oldest); the audit log still holds them');
      }
      const records: AuditRecord[] = [];
      let end = this.#sendPos.offset;
      for (let i = start; i < frames.length && records.length < BATCH; i++) {
        readSync(fd, head, 0, 4, frames[i]!);
        const body = Buffer.allocUnsafe(head.readUInt32BE(0));
        readSync(fd, body, 0, body.length, frames[i]! + 4);
        records.push(decodeRecord(body));
        end = frames[i]! + 4 + body.length;
      }
      return { records, end, more: frames.length - start > records.length };
    } finally {
      closeSync(fd);
    }
  }

  /** The cursor, on disk before it counts (write, fsync, rename). */
  #advance(c: Cursor): void {
    const tmp = `${this.#cursorFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(c));
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.#cursorFile);
    this.#cursor = c;
  }
}

export type { Origin };
