import { writeSync } from 'node:fs';

const open = new Set<LogSink>();
let exitHooked = false;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Where log lines go: a file descriptor, written once per event-loop turn with every line
 * that turn produced.
 *
 * Lines are kept as separate strings and joined once per write. (sonic-boom appends each
 * line to the pending string and measures its byte length again, which flattens the whole
 * pending batch per line: at 3,000 decisions a second that was a fifth of the proxy's
 * allocation.) The write itself is synchronous, so nothing is ever half-written when the
 * process exits: what is pending then is written before it goes.
 */
export class LogSink {
  #pending: string[] = [];
  /** Bytes a full pipe refused, written before anything newer. */
  #stalled: Buffer | null = null;
  #scheduled = false;

  constructor(readonly fd: number) {
    open.add(this);
    if (!exitHooked) {
      exitHooked = true;
      process.once('exit', () => {
        for (const sink of open) sink.flushSync(true);
      });
    }
  }

  write(line: string): boolean {
    this.#pending.push(line);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flushSync(false));
    }
    return true;
  }

  /** Writes what is pending. Exiting, a full non-blocking pipe is waited on instead of retried later. */
  flushSync(exiting: boolean): void {
    this.#scheduled = false;
    if (this.#pending.length === 0 && !this.#stalled) return;
    let data = Buffer.from(this.#pending.length === 1 ? this.#pending[0]! : this.#pending.join(''));
    if (this.#stalled) data = Buffer.concat([this.#stalled, data]);
    this.#pending = [];
    this.#stalled = null;
    for (let waits = 0; data.length > 0; ) {
      try {
        data = data.subarray(writeSync(this.fd, data));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return; // stdout is gone: nowhere left to say it
        if (!exiting) {
          this.#stalled = data;
          this.#scheduled = true;
          setTimeout(() => this.flushSync(false), 5);
          return;
        }
        if (++waits > 1000) return;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
  }
}
