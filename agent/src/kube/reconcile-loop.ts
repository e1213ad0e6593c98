import type { Logger } from '../../../proxy/src/index.js';

/**
 * A controller's reconciliation, run one at a time: events arriving together are one run, a
 * request during a run makes one more after it, a failure is retried after a second, and a
 * resync runs it periodically without an event (what a watch cannot report: a switch released
 * through the API, an address that changed). Behind a gate (leadership among control-plane
 * replicas) a run that finds the gate shut does nothing: the watches stay warm, and the
 * reconciliation runs once the gate opens and it is scheduled.
 */
export class ReconcileLoop {
  #timer: NodeJS.Timeout | null = null;
  #resync: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;
  runs = 0;
  failures = 0;
  skipped = 0;

  constructor(
    private readonly what: string,
    private readonly run: () => Promise<void>,
    private readonly logger: Logger,
    private readonly gate: () => boolean = () => true,
  ) {}

  /** Runs now, then every resyncMs. */
  start(resyncMs: number): void {
    this.schedule(0);
    this.#resync = setInterval(() => this.schedule(0), resyncMs);
    this.#resync.unref();
  }

  schedule(delayMs = 50): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.now();
    }, delayMs);
    this.#timer.unref();
  }

  /** Runs (or, during a run, once more after it); resolves when the run it joined is done. */
  now(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    if (!this.gate()) {
      this.skipped++;
      return Promise.resolve();
    }
    this.runs++;
    this.#running = this.run()
      .catch((err: unknown) => {
        this.failures++;
        this.logger.error({ err: (err as Error).message }, `${this.what} failed; retrying`);
        this.schedule(1000);
      })
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.schedule(0);
        }
      });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#resync) clearInterval(this.#resync);
    await this.#running;
  }
}
