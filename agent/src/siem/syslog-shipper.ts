// Ships the audit log to a syslog receiver over TLS (docs/security.md, "SIEM"), at least once.
// The spool is the audit log itself: records are on disk in order before anything is sent, so a
// receiver that is down for an hour receives everything when it is back, from the sink's cursor
// (its byte offset and sequence number in the log). Syslog over TCP has no acknowledgement, so a
// batch counts as delivered only once the connection has stayed up `confirm_ms` after it was
// written; a connection that breaks sends everything since the cursor again. A record may thus
// arrive twice; node and sequence number in each message let the receiver tell. A receiver too far behind: `when_full` says whether the oldest records are
// skipped (counted, logged) or kept until delivered.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, renameSync, statSync, writeFileSync, fsyncSync } from 'node:fs';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Logger } from '../../../proxy/src/index.js';
import { decodeRecord, type AuditRecord } from '../audit/records.js';
import { cef, octetCounted, rfc5424, type Origin } from './formats.js';

export interface SyslogSink {
  name: string;
  /** host:port of the receiver. */
  address: string;
  tls: boolean;
  /** The CA the receiver's certificate chains to (PEM file); absent: the system's roots. */
  ca_file?: string;
  /** The name its certificate must carry (default: the host). */
  server_name?: string;
  format: 'rfc5424' | 'cef';
  /** Records the sink may be behind before `when_full` applies. */
  max_lag_records: number;
  when_full: 'block' | 'drop_oldest';
  /** How long a written batch must be followed by a connection still up before it counts as delivered. */
  confirm_ms: number;
}

export interface ShipperCounts {
  sent: number;
  dropped: number;
  reconnects: number;
  lag: number;
}

interface Cursor {
  offset: number;
  seq: number;
}

const BATCH = 500;
const MAX_RECORD_BYTES = 1 << 20;

export class SyslogShipper {
  readonly counts: ShipperCounts = { sent: 0, dropped: 0, reconnects: 0, lag: 0 };
  /** Delivered: on disk, where a restart sends from. */
  #cursor: Cursor;
  /** Written to the connection: where the next batch is read from. */
  #sendPos: Cursor;
  /** Written, not yet confirmed by the connection staying up. */
  #pending: { pos: Cursor; at: number }[] = [];
  readonly #cursorFile: string;
  #socket: Socket | TLSSocket | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;
  #busy = false;
  #backoffMs = 500;
  #connected = false;

  constructor(
    private readonly sink: SyslogSink,
    private readonly recordsFile: string,
    stateDir: string,
    private readonly origin: Origin,
    private readonly logger: Logger,
    private readonly pollMs = 200,
  ) {
    const dir = join(stateDir, 'siem');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.#cursorFile = join(dir, `${sink.name}.cursor`);
    this.#cursor = existsSync(this.#cursorFile) ? (JSON.parse(readFileSync(this.#cursorFile, 'utf8')) as Cursor) : { offset: 0, seq: 0 };
    this.#sendPos = this.#cursor;
  }

  get sinkName(): string {
    return this.sink.name;
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
    this.#socket?.destroy();
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
        const socket = await this.#connection();
        const payload = batch.records.map((r) => this.#format(r)).join('');
        await new Promise<void>((resolve, reject) => socket.write(payload, (err) => (err ? reject(err) : resolve())));
        this.#sendPos = { offset: batch.end, seq: batch.records[batch.records.length - 1]!.seq };
        this.#pending.push({ pos: this.#sendPos, at: Date.now() });
        this.counts.sent += batch.records.length;
        this.#backoffMs = 500;
        if (batch.more) next = 0;
      } else if (this.#pending.length > 0) next = Math.min(next, this.sink.confirm_ms);
    } catch (err) {
      // Back to the last confirmed cursor: what was in flight is sent again.
      this.#rewind();
      this.#socket?.destroy();
      this.#socket = null;
      if (this.#connected) this.logger.warn({ sink: this.sink.name, err: (err as Error).message }, 'SIEM sink unreachable; records wait in the audit log');
      this.#connected = false;
      next = this.#backoffMs;
      this.#backoffMs = Math.min(this.#backoffMs * 2, 30_000);
    } finally {
      this.#busy = false;
      this.#schedule(next);
    }
  }

  /** Batches written long enough ago on a connection still up: delivered. */
  #confirm(): void {
    if (!this.#socket || this.#socket.destroyed) return;
    const before = Date.now() - this.sink.confirm_ms;
    let last: Cursor | null = null;
    while (this.#pending.length > 0 && this.#pending[0]!.at <= before) last = this.#pending.shift()!.pos;
    if (last) this.#advance(last);
  }

  #rewind(): void {
    this.#pending = [];
    this.#sendPos = this.#cursor;
  }

  #format(r: AuditRecord): string {
    return this.sink.format === 'cef' ? octetCounted(cef(r, this.origin)) : octetCounted(rfc5424(r, this.origin));
  }

  /** Records after the cursor (at most a batch), and where they end; past the cap, drop_oldest moves the cursor on first. */
  #read(): { records: AuditRecord[]; end: number; more: boolean } {
    if (!existsSync(this.recordsFile)) return { records: [], end: this.#sendPos.offset, more: false };
    const size = statSync(this.recordsFile).size;
    const fd = openSync(this.recordsFile, 'r');
    try {
      const records: AuditRecord[] = [];
      const offsets: number[] = [];
      let at = this.#sendPos.offset;
      const head = Buffer.allocUnsafe(4);
      // Walk the frames to the end to know the lag; keep the first batch (or, when dropping, the newest ones).
      const all: number[] = [];
      while (at + 4 <= size) {
        readSync(fd, head, 0, 4, at);
        const length = head.readUInt32BE(0);
        if (length > MAX_RECORD_BYTES || at + 4 + length > size) break;
        all.push(at);
        at += 4 + length;
      }
      this.counts.lag = all.length;
      let start = 0;
      if (all.length > this.sink.max_lag_records && this.sink.when_full === 'drop_oldest') {
        start = all.length - this.sink.max_lag_records;
        this.counts.dropped += start;
        this.logger.warn({ sink: this.sink.name, dropped: start, max_lag_records: this.sink.max_lag_records }, 'SIEM sink too far behind: the oldest records are skipped (when_full: drop_oldest); the audit log still holds them');
      }
      for (let i = start; i < all.length && records.length < BATCH; i++) {
        const offset = all[i]!;
        readSync(fd, head, 0, 4, offset);
        const body = Buffer.allocUnsafe(head.readUInt32BE(0));
        readSync(fd, body, 0, body.length, offset + 4);
        records.push(decodeRecord(body));
        offsets.push(offset + 4 + body.length);
      }
      return { records, end: offsets[offsets.length - 1] ?? this.#sendPos.offset, more: all.length - start > records.length };
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

  async #connection(): Promise<Socket | TLSSocket> {
    if (this.#socket && !this.#socket.destroyed) return this.#socket;
    const [host, portText] = splitAddress(this.sink.address);
    const port = Number(portText);
    const socket = this.sink.tls
      ? tlsConnect({ host, port, servername: this.sink.server_name ?? host, ...(this.sink.ca_file ? { ca: readFileSync(this.sink.ca_file, 'utf8') } : {}), minVersion: 'TLSv1.2' })
      : tcpConnect({ host, port });
    await new Promise<void>((resolve, reject) => {
      socket.once(this.sink.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    socket.on('error', () => socket.destroy());
    // The receiver hanging up: the next round reconnects and sends again from the cursor.
    socket.on('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#rewind();
    });
    socket.resume();
    if (!this.#connected) {
      this.counts.reconnects++;
      this.logger.info({ sink: this.sink.name, address: this.sink.address, from_seq: this.#cursor.seq + 1 }, 'SIEM sink connected');
    }
    this.#connected = true;
    this.#socket = socket;
    return socket;
  }
}

function splitAddress(address: string): [string, string] {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(address) ?? /^([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`a SIEM sink address is host:port, not ${address}`);
  return [m[1]!, m[2]!];
}
