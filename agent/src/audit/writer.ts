// The only writer of the audit log, in the agent's own thread. Framing and hashing are a few
// microseconds a record; the file's writes and fsyncs go to libuv's pool, so the event loop never
// waits on the disk. One operation at a time, in the order they were asked for. (It was a worker
// thread until session 19: a whole isolate, ~18 MB of the agent's memory, for work this small.)
import { close, closeSync, existsSync, fsync, mkdirSync, openSync, readFileSync, truncateSync, write, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { NoteSigner } from './checkpoint.js';
import { auditPaths, MAX_RECORD_BYTES, readCheckpoints, readFrames } from './files.js';
import { CompactRange, leafHash, type Hash } from './merkle.js';
import { chainHeadBound, unpackEvents, writeChainHead } from './records.js';

const writeAsync = promisify(write);
const fsyncAsync = promisify(fsync);
const closeAsync = promisify(close);

export interface WriterConfig {
  stateDir: string;
  /** Checkpoint origin and signing key name. */
  origin: string;
  checkpointIntervalMs: number;
}

/** What the writer found on disk when it opened the log. */
export interface WriterOpened {
  size: number;
  verifierKey: string;
  /** Bytes of a frame torn by a crash mid-write, cut off at open. */
  repairedBytes: number;
}

export class AuditWriter {
  readonly #tree: CompactRange;
  #lastLeaf: Hash;
  #checkpointed: number;
  readonly #recordsFd: number;
  readonly #checkpointsFd: number;
  readonly #timer: NodeJS.Timeout;
  /** The operations asked for, in order: each starts when the one before it has finished. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  #closing: Promise<void> | null = null;

  private constructor(
    private readonly config: WriterConfig,
    private readonly signer: NoteSigner,
    tree: CompactRange,
    lastLeaf: Hash,
    checkpointed: number,
    recordsFd: number,
    checkpointsFd: number,
    onFailure: (message: string) => void,
  ) {
    this.#tree = tree;
    this.#lastLeaf = lastLeaf;
    this.#checkpointed = checkpointed;
    this.#recordsFd = recordsFd;
    this.#checkpointsFd = checkpointsFd;
    this.#timer = setInterval(() => void this.checkpoint().catch((err: Error) => onFailure(`checkpoint: ${err.message}`)), config.checkpointIntervalMs);
    this.#timer.unref();
  }

  /**
   * Opens the log, rebuilding the tree from what is on disk. A frame torn by a crash mid-write is
   * cut off: it was never fsynced, so no checkpoint covers it. Anything else unreadable is not
   * repaired: the agent stops and says where, as cutting there could throw away records that verify.
   */
  static open(config: WriterConfig, onFailure: (message: string) => void): { writer: AuditWriter; opened: WriterOpened } {
    const paths = auditPaths(config.stateDir);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    if (!existsSync(paths.key)) writeFileSync(paths.key, NoteSigner.generate(config.origin).toPem(), { mode: 0o600 });
    const signer = NoteSigner.fromPem(config.origin, readFileSync(paths.key, 'utf8'));
    // The public half, for `altrace audit verify` and for anyone checking proofs offline.
    writeFileSync(paths.verifier, signer.verifierKey + '\n', { mode: 0o644 });
    const existing = readFrames(paths.records);
    const stored = readCheckpoints(paths.checkpoints).checkpoints;
    const signedSize = stored.length ? stored[stored.length - 1]!.size : 0;
    if (existing.damage) {
      const d = existing.damage;
      throw new Error(
        `audit log ${paths.records} cannot be read past record ${d.index} (byte ${d.offset}): a frame there claims ${d.claimed} bytes, over the ${MAX_RECORD_BYTES}-byte limit. ` +
          `Nothing was changed. \`altrace audit verify\` names what verifies; keep the file as evidence (move it aside to start a new log).`,
      );
    }
    if (existing.tailBytes > 0 && existing.records.length < signedSize) {
      throw new Error(
        `audit log ${paths.records} holds ${existing.records.length} whole records but checkpoint ${stored.length} signed ${signedSize}; ${existing.tailBytes} bytes after record ${existing.records.length - 1} are not whole. ` +
          `Nothing was changed: the log was damaged, not torn by a crash. \`altrace audit verify\` names what verifies.`,
      );
    }
    if (existing.tailBytes > 0) truncateSync(paths.records, existing.wholeBytes);
    const tree = new CompactRange();
    let lastLeaf: Hash = Buffer.alloc(0);
    for (const r of existing.records) {
      lastLeaf = leafHash(r);
      tree.append(lastLeaf);
    }
    const recordsFd = openSync(paths.records, 'a', 0o600);
    const checkpointsFd = openSync(paths.checkpoints, 'a', 0o600);
    const writer = new AuditWriter(config, signer, tree, lastLeaf, signedSize, recordsFd, checkpointsFd, onFailure);
    return { writer, opened: { size: tree.size, verifierKey: signer.verifierKey, repairedBytes: existing.tailBytes } };
  }

  /** Appends a batch (records.ts unpackEvents' packing); resolves once it is written (not yet fsynced). */
  append(packed: ArrayBuffer): Promise<number> {
    return this.#then(() => this.#append(packed));
  }

  /** Appends a batch and resolves with the log's size once it is on disk. */
  durable(packed: ArrayBuffer): Promise<number> {
    return this.#then(async () => {
      await this.#append(packed);
      await fsyncAsync(this.#recordsFd);
      return this.#tree.size;
    });
  }

  /** Signs a checkpoint of what is on disk; null when nothing was appended since the last one. */
  checkpoint(): Promise<string | null> {
    return this.#then(() => this.#checkpoint());
  }

  /** A last checkpoint, then the files closed (closed even when that checkpoint fails); closing again does nothing. */
  close(): Promise<void> {
    clearInterval(this.#timer);
    if (this.#closing) return this.#closing;
    this.#closing = this.#then(async () => {
      try {
        await this.#checkpoint();
      } finally {
        this.#closed = true;
        await Promise.all([closeAsync(this.#recordsFd), closeAsync(this.#checkpointsFd)]);
      }
    });
    return this.#closing;
  }

  /** The next operation, after the ones before it (a failed one does not stop those after it). */
  #then<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => {
      if (this.#closed) throw new Error('the audit log is closed');
      return op();
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  /** Frames a batch's records into one buffer and writes it at once: [4-byte length][record] each. */
  async #append(packed: ArrayBuffer): Promise<number> {
    const events = unpackEvents(packed);
    if (events.length === 0) return this.#tree.size;
    let bound = 0;
    for (const e of events) {
      // Never write what the reader refuses: such a record would end verification, and the next
      // start, there. Checked before anything is appended, so the tree and the file stay one.
      if (chainHeadBound(32) + e.length > MAX_RECORD_BYTES) throw new Error(`an audit record of ${e.length} bytes is over the ${MAX_RECORD_BYTES}-byte limit; the batch was not written`);
      bound += 4 + chainHeadBound(32) + e.length;
    }
    const out = Buffer.allocUnsafe(bound);
    let at = 0;
    for (const e of events) {
      const start = at + 4;
      let end = writeChainHead(out, start, this.#tree.size, this.#lastLeaf);
      out.set(e, end);
      end += e.length;
      out.writeUInt32BE(end - start, at);
      this.#lastLeaf = leafHash(out.subarray(start, end));
      this.#tree.append(this.#lastLeaf);
      at = end;
    }
    // A write to a regular file may still stop short (a signal, a full disk): the rest follows or throws.
    for (let written = 0; written < at; ) written += (await writeAsync(this.#recordsFd, out, written, at - written)).bytesWritten;
    return this.#tree.size;
  }

  async #checkpoint(): Promise<string | null> {
    if (this.#tree.size === this.#checkpointed) return null;
    const size = this.#tree.size;
    await fsyncAsync(this.#recordsFd); // a checkpoint never covers records that are not on disk
    const note = this.signer.sign({ origin: this.config.origin, size, root: this.#tree.root() });
    const line = Buffer.from(JSON.stringify({ size, note }) + '\n');
    for (let written = 0; written < line.length; ) written += (await writeAsync(this.#checkpointsFd, line, written, line.length - written)).bytesWritten;
    await fsyncAsync(this.#checkpointsFd);
    this.#checkpointed = size;
    return note;
  }
}
