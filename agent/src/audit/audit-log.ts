import { AltraceError } from '../errors.js';
import { EventBatch } from './event-batch.js';
import type { AuditEvent } from './records.js';
import { AuditWriter, type WriterConfig } from './writer.js';

const BATCH_MS = 20;

/** The audit log could not be opened: unreadable or damaged (the message says where), or its files are not writable. */
export class AuditLogError extends AltraceError {
  constructor(message: string) {
    super('ALT_AUDIT_UNREADABLE', message);
  }
}

/**
 * The agent's side of the audit log. Decisions are batched and handed to the writer without
 * waiting (appending never blocks the request path); control actions are appended durably, and
 * the call that made them is acknowledged only after the fsync.
 */
export class AuditLog {
  readonly #writer: AuditWriter;
  /** Encoded at once: a pending batch is bytes off the V8 heap, not objects that outlive a scavenge or two. */
  readonly #pending = new EventBatch();
  #timer: NodeJS.Timeout | null = null;
  readonly #verifierKey: string;
  readonly #failure: (message: string) => void;

  private constructor(writer: AuditWriter, verifierKey: string, onFailure: (message: string) => void) {
    this.#writer = writer;
    this.#verifierKey = verifierKey;
    this.#failure = onFailure;
  }

  static async open(config: WriterConfig, onFailure: (message: string) => void): Promise<AuditLog> {
    let opened;
    try {
      opened = AuditWriter.open(config, onFailure);
    } catch (err) {
      // Made one of ours, with a stable code: the agent does not start on a log it cannot read.
      throw new AuditLogError((err as Error).message);
    }
    if (opened.opened.repairedBytes > 0) onFailure(`audit log ended in a torn record (${opened.opened.repairedBytes} bytes); cut at the last whole record`);
    return new AuditLog(opened.writer, opened.opened.verifierKey, onFailure);
  }

  get verifierKey(): string {
    return this.#verifierKey;
  }

  /** Queues an event; it reaches the writer within BATCH_MS. */
  append(event: AuditEvent): void {
    this.#pending.add(event);
    this.#timer ??= setTimeout(() => this.#flush(), BATCH_MS);
  }

  /** Appends after everything queued, and resolves once it is on disk. */
  async appendDurable(event: AuditEvent): Promise<void> {
    this.#pending.add(event);
    try {
      await this.#writer.durable(this.#take());
    } catch (err) {
      this.#failure((err as Error).message);
      throw new Error(`audit log: ${(err as Error).message}`);
    }
  }

  /** Forces a signed checkpoint now; null when nothing was appended since the last one. */
  async checkpoint(): Promise<string | null> {
    this.#flush();
    try {
      return await this.#writer.checkpoint();
    } catch (err) {
      this.#failure((err as Error).message);
      throw new Error(`audit log: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {
    this.#flush();
    await this.#writer.close();
  }

  /** Everything queued, packed for the writer (records.ts unpackEvents). */
  #take(): ArrayBuffer {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    return this.#pending.take();
  }

  #flush(): void {
    if (this.#pending.count === 0) return;
    this.#writer.append(this.#take()).catch((err: Error) => this.#failure(err.message));
  }
}
