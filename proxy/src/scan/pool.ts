import { Piscina } from 'piscina';
import type { ClassifyResult, ClassifyTask, DetectResult, DetectTask, ScanResult, ScanTask, ScanWorkerData, WorkerResult, WorkerTask } from './messages.js';

export interface ScanPoolOptions {
  threads: number;
  /** The gitleaks rule file the workers load their secret detectors from. */
  secretRulesPath: string;
  /** Old-generation limit per worker: a scan that outgrows it ends that worker, not the agent. */
  workerHeapMb: number;
}

/** What a request stage asks of the scanning workers: the pool, or a loop thread's way to it. */
export type Scanner = Pick<ScanPool, 'detect' | 'classify'>;

/** The worker pool for content scanning; one per agent process. */
export class ScanPool {
  readonly #pool: Piscina<WorkerTask, WorkerResult>;

  constructor(options: ScanPoolOptions) {
    const workerData: ScanWorkerData = { secretRulesPath: options.secretRulesPath };
    this.#pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      workerData,
      // No idle thread: the prefilters send a scan here only when a detector could match,
      // so a thread (an isolate, ~15 MB) starts on the first such scan and ends after a minute idle.
      minThreads: 0,
      maxThreads: options.threads,
      idleTimeout: 60_000,
      // Scans allocate short-lived strings only; V8's default young generation would cost RSS for nothing.
      resourceLimits: { maxYoungGenerationSizeMb: 4, maxOldGenerationSizeMb: options.workerHeapMb },
    });
  }

  run(task: ScanTask): Promise<ScanResult> {
    return this.#pool.run(task) as Promise<ScanResult>;
  }

  detect(task: DetectTask): Promise<DetectResult> {
    return this.#pool.run(task) as Promise<DetectResult>;
  }

  classify(task: ClassifyTask): Promise<ClassifyResult> {
    return this.#pool.run(task) as Promise<ClassifyResult>;
  }

  async close(): Promise<void> {
    await this.#pool.close({ force: true });
  }
}
