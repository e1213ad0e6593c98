import { Piscina } from 'piscina';
import type { ScanResult, ScanTask } from './messages.js';

export interface ScanPoolOptions {
  threads: number;
}

/** The worker pool for content scanning; one per agent process. */
export class ScanPool {
  readonly #pool: Piscina<ScanTask, ScanResult>;

  constructor(options: ScanPoolOptions) {
    this.#pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: options.threads,
      maxThreads: options.threads,
      idleTimeout: 60_000,
    });
  }

  run(task: ScanTask): Promise<ScanResult> {
    return this.#pool.run(task);
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
