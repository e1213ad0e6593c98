import { ListWatch, Watch, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import type { Logger } from '../../../proxy/src/index.js';

export interface InformerOptions {
  kubeConfig: KubeConfig;
  logger: Logger;
  /** A watch that has said nothing for this long (not even a bookmark) is ended and opened again. */
  inactivityMs: number;
  /** The longest wait between attempts after the API server refused or vanished. */
  maxBackoffMs?: number;
}

type List<T> = () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>;

/**
 * client-node's list-then-watch, made to survive what a watch meets: 410 Gone (the client
 * relists), a silent watch (ended after `inactivityMs` and opened again from the last version),
 * and an API server that restarts or refuses (tried again with a backoff doubling to
 * `maxBackoffMs`, from the last version it had).
 */
export class Informer<T extends KubernetesObject> {
  readonly lw: ListWatch<T>;
  #backoffMs = 0;
  #restarts = 0;
  #lastError: string | null = null;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(o: InformerOptions, what: string, path: string, list: List<T>, selectors: { fieldSelector?: string; labelSelector?: string } = {}) {
    const watch = new Watch(o.kubeConfig);
    // client-node ends a watch that has been silent this long; its ListWatch then resumes from the last version.
    (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = o.inactivityMs;
    this.lw = new ListWatch<T>(path, watch, list as never, false, selectors.labelSelector, selectors.fieldSelector);
    this.lw.on('error', (err: unknown) => {
      // Anything but 410 and its own timeout stops client-node's ListWatch: start it again, from where it was.
      this.#lastError = (err as Error | undefined)?.message ?? String(err);
      this.#backoffMs = Math.min(this.#backoffMs > 0 ? this.#backoffMs * 2 : 250, o.maxBackoffMs ?? 30_000);
      o.logger.warn({ watch: what, err: this.#lastError, retry_ms: this.#backoffMs }, 'Kubernetes watch failed; trying again');
      if (this.#stopped) return;
      this.#timer = setTimeout(() => {
        this.#restarts++;
        void this.lw.start().catch(() => {});
      }, this.#backoffMs);
      this.#timer.unref();
    });
    const healthy = () => {
      this.#backoffMs = 0;
      this.#lastError = null;
    };
    this.lw.on('add', healthy);
    this.lw.on('update', healthy);
    this.lw.on('delete', healthy);
  }

  /** Starts the list-then-watch; a failed first attempt is retried by the error handler. */
  start(): void {
    void this.lw.start().catch(() => {});
  }

  /** Listed at least once. */
  get listed(): boolean {
    return this.lw.latestResourceVersion() !== '';
  }

  status() {
    return { resource_version: this.lw.latestResourceVersion(), restarts: this.#restarts, last_error: this.#lastError };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.lw.stop();
  }
}

/** Resolves once every informer has listed, or after waitMs (carrying on without). */
export async function waitListed(informers: { listed: boolean }[], waitMs: number): Promise<boolean> {
  const all = () => informers.every((i) => i.listed);
  for (const deadline = Date.now() + waitMs; !all() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
  return all();
}
