import { Worker } from 'node:worker_threads';
import { AltraceError } from '../errors.js';
import type { FromWriter, ToWriter, WriterConfig } from './messages.js';
import { EventBatch } from './event-batch.js';
import type { AuditEvent } from './records.js';

const BATCH_MS = 20;

/** The audit log could not be opened: unreadable or damaged (the message says where), or its files are not writable. */
export class AuditLogError extends AltraceError {
  constructor(message: string) {
    super('ALT_AUDIT_UNREADABLE', message);
  }
}

/**
 * The agent's side of the audit log. Decisions are batched and posted to the writer
 * thread without waiting (appending never blocks the request path); control actions are
 * appended durably, and the call that made them is acknowledged only after the fsync.
 */
export class AuditLog {
  readonly #worker: Worker;
  /** Encoded at once: a pending batch is bytes off the V8 heap, not objects that outlive a scavenge or two. */
  readonly #pending = new EventBatch();
  #timer: NodeJS.Timeout | null = null;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (m: FromWriter) => void; reject: (e: Error) => void }>();
  #verifierKey = '';
  #failure: ((message: string) => void) | null = null;

  private constructor(worker: Worker) {
    this.#worker = worker;
  }

  static async open(config: WriterConfig, onFailure: (message: string) => void): Promise<AuditLog> {
    // A small young generation: the writer's objects live for one batch (RSS budget, docs/benchmarks.md).
    const worker = new Worker(new URL('./writer.js', import.meta.url), { workerData: config, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    const log = new AuditLog(worker);
    log.#failure = onFailure;
    const ready = await new Promise<FromWriter & { type: 'ready' }>((resolve, reject) => {
      // The writer's error crosses a thread: re-made here as one of ours, with a stable code.
      worker.once('error', (err) => reject(new AuditLogError(err.message)));
      worker.once('message', (m: FromWriter) => (m.type === 'ready' ? resolve(m) : reject(new Error(m.type === 'failed' ? m.message : 'audit writer did not start'))));
    });
    log.#verifierKey = ready.verifierKey;
    worker.on('message', (m: FromWriter) => log.#onMessage(m));
    worker.on('error', (err) => onFailure(err.message));
    if (ready.repairedBytes > 0) onFailure(`audit log ended in a torn record (${ready.repairedBytes} bytes); cut at the last whole record`);
    return log;
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
    const packed = this.#take();
    await this.#request((id) => ({ type: 'durable', id, events: packed }), [packed]);
  }

  /** Forces a signed checkpoint now; null when nothing was appended since the last one. */
  async checkpoint(): Promise<string | null> {
    this.#flush();
    const m = await this.#request((id) => ({ type: 'checkpoint', id }));
    return m.type === 'checkpointed' ? m.note : null;
  }

  async close(): Promise<void> {
    this.#flush();
    await this.#request((id) => ({ type: 'close', id }));
    await this.#worker.terminate();
  }

  /** Everything queued, packed for the writer (records.ts unpackEvents). */
  #take(): ArrayBuffer {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    return this.#pending.take();
  }

  #flush(): void {
    if (this.#pending.count === 0) return;
    const packed = this.#take();
    this.#worker.postMessage({ type: 'append', events: packed } satisfies ToWriter, [packed]);
  }

  #request(make: (id: number) => ToWriter, transfer: ArrayBuffer[] = []): Promise<FromWriter> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#worker.postMessage(make(id), transfer);
    });
  }

  #onMessage(m: FromWriter): void {
    if (m.type === 'ready') return;
    const waiter = this.#waiting.get(m.id ?? -1);
    if (m.type === 'failed') {
      this.#failure?.(m.message);
      if (waiter) waiter.reject(new Error(`audit log: ${m.message}`));
    } else if (waiter) waiter.resolve(m);
    if (m.id !== null) this.#waiting.delete(m.id);
  }
}
