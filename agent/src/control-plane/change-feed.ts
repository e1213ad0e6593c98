// A replica's view of the fleet change log (docs/fleet.md, "Roles"): every committed change, from
// this replica or another, applied in version order to the replica's registries and handed to
// its node streams. PostgreSQL's NOTIFY says a version exists; the feed reads what it missed.
import type { Logger } from '../../../proxy/src/index.js';
import { FollowedState, type FollowedRegistries } from '../follower/followed-state.js';
import type { Change, ChangeListener, PgStore } from '../state/postgres/index.js';

/** Read this many changes per query while catching up. */
const PAGE = 1000;
/** After a read that failed (PostgreSQL down or hung), the next try. */
const RETRY_MS = 1000;

export type ChangeSubscriber = (c: Change) => void;

export class ChangeFeed {
  readonly #subscribers = new Set<ChangeSubscriber>();
  #listener: ChangeListener | null = null;
  #pulling: Promise<void> | null = null;
  #pullAgain = false;
  #closed = false;
  #retry: NodeJS.Timeout | null = null;

  private constructor(
    private readonly store: PgStore,
    readonly state: FollowedState,
    private readonly logger: Logger,
  ) {}

  /** Catches up with the whole log, then follows it. Resolves once this replica knows the head. */
  static async open(store: PgStore, registries: FollowedRegistries, logger: Logger): Promise<ChangeFeed> {
    const feed = new ChangeFeed(store, new FollowedState(registries), logger);
    await feed.pull();
    feed.#listener = await store.listen((v) => {
      if (v > feed.state.version) feed.#follow();
    }, { onError: (err) => logger.warn({ err: err.message }, 'change log listener lost PostgreSQL; reconnecting') });
    return feed;
  }

  get version(): number {
    return this.state.version;
  }

  /** Everything a node decides from, now: the version and the compacted changes. */
  snapshot(): { version: number; state: Change[] } {
    return { version: this.state.version, state: this.state.changes() };
  }

  /** Each change applied from now on, in order; returns the unsubscribe. */
  subscribe(fn: ChangeSubscriber): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /**
   * Reads and applies what was committed after the version applied. One read at a time; a call
   * while one runs makes it read once more when done, so a NOTIFY is never lost between the two.
   */
  pull(): Promise<void> {
    if (this.#pulling) {
      this.#pullAgain = true;
      return this.#pulling;
    }
    this.#pulling = (async () => {
      try {
        do {
          this.#pullAgain = false;
          await this.#readAll();
        } while (this.#pullAgain && !this.#closed);
      } finally {
        this.#pulling = null;
      }
    })();
    return this.#pulling;
  }

  /**
   * pull() for the listener: a read that fails is logged and tried again, never thrown. It was
   * `void pull()`: the rejection of a read while PostgreSQL was hung (a connect timeout) went
   * unhandled and ended the replica's process; and without a retry, a version already notified
   * would reach nodes only with the next change (test/e2e/fleet-faults.test.ts).
   */
  #follow(): void {
    this.pull().catch((err: unknown) => {
      if (this.#closed || this.#retry) return;
      this.logger.warn({ err: (err as Error).message, version: this.state.version }, 'change log not read (PostgreSQL unavailable); retrying');
      this.#retry = setTimeout(() => {
        this.#retry = null;
        if (!this.#closed) this.#follow();
      }, RETRY_MS);
      this.#retry.unref();
    });
  }

  async #readAll(): Promise<void> {
    for (;;) {
      const page = await this.store.changesSince(this.state.version, PAGE);
      for (const c of page) {
        // Versions are gapless and read in order: a gap here would be a bug in the log itself.
        if (this.state.applyDelta(c) !== 'applied') continue;
        for (const fn of this.#subscribers) {
          try {
            fn(c);
          } catch (err) {
            this.logger.error({ err: (err as Error).message, version: c.version }, 'a node stream failed to take a change');
          }
        }
      }
      if (page.length < PAGE) return;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#listener?.close();
    await this.#pulling?.catch(() => {});
  }
}
