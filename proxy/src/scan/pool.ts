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
      // No idle thread: the prefilter sends a scan here only when a pattern's literal appears,
      // so a thread (an isolate, ~15 MB) starts on the first such scan and ends after a minute idle.
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      // Scans allocate short-lived strings only; V8's default young generation would cost RSS for nothing.
      resourceLimits: { maxYoungGenerationSizeMb: 4 },
    });
  }

  run(task: ScanTask): Promise<ScanResult> {
    return this.#pool.run(task);
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
