// What one side of the decider seam sends, gathered per turn of its event loop: every message a
// turn produces crosses in one postMessage, so a busy loop pays one copy, one wake-up and one
// 'message' event for many requests, and an idle one sends at once (at the turn's end).
import type { MessagePort } from 'node:worker_threads';

export class Outbox<M> {
  readonly #port: MessagePort;
  #batch: M[] = [];

  constructor(port: MessagePort) {
    this.#port = port;
  }

  send(m: M): void {
    if (this.#batch.length === 0) setImmediate(this.#flush);
    this.#batch.push(m);
  }

  readonly #flush = (): void => {
    const batch = this.#batch;
    this.#batch = [];
    // A port closed meanwhile (the loop's thread went) drops the batch, as it would one message.
    this.#port.postMessage(batch);
  };
}

/** The receiving end: each message of a batch in the order it was sent. */
export function onBatches<M>(port: MessagePort, handle: (m: M) => void): void {
  port.on('message', (batch: M[]) => {
    for (const m of batch) handle(m);
  });
}
