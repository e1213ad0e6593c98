// Relays run events (evidence, run-loop steps: agent/src/follower/run-sharing.ts) from the node
// that produced them to every other node: those on this replica directly, those on other
// replicas through a PostgreSQL NOTIFY. Not stored: an event is worth little once late.
import type { Logger } from '../../../proxy/src/index.js';
import { listenForPayloads, type ChangeListener, type PgStore } from '../state/postgres/index.js';

export const RUNS_CHANNEL = 'altrace_runs';
/** PostgreSQL refuses a NOTIFY payload of 8000 bytes or more. */
const MAX_PAYLOAD = 7_900;

export interface RunEventsReceiver {
  readonly nodeId: string;
  sendRunEvents(events: Buffer): void;
}

export class RunRelay {
  #listener: ChangeListener | null = null;
  /** The node streams of this replica (set once its fleet server exists). */
  sessions: () => Iterable<RunEventsReceiver> = () => [];

  private constructor(
    private readonly store: PgStore,
    private readonly replica: string,
    private readonly logger: Logger,
  ) {}

  static async open(store: PgStore, url: string, replica: string, logger: Logger): Promise<RunRelay> {
    const relay = new RunRelay(store, replica, logger);
    relay.#listener = await listenForPayloads(url, RUNS_CHANNEL, (p) => relay.#fromPeer(p), { onError: (err) => logger.warn({ err: err.message }, 'run event listener lost PostgreSQL; reconnecting') });
    return relay;
  }

  /** A node's events: to this replica's other nodes now, and to the other replicas. */
  publish(origin: string, events: Buffer): void {
    this.#deliver(origin, events);
    const payload = JSON.stringify({ r: this.replica, o: origin, e: events.toString('utf8') });
    if (payload.length > MAX_PAYLOAD) return void this.logger.warn({ node: origin, bytes: payload.length }, 'run events too large for other replicas; relayed on this one only');
    this.store.notify(RUNS_CHANNEL, payload).catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'run events not relayed to other replicas (PostgreSQL unavailable)'));
  }

  async close(): Promise<void> {
    await this.#listener?.close();
  }

  #fromPeer(payload: string): void {
    const m = JSON.parse(payload) as { r: string; o: string; e: string };
    if (m.r === this.replica) return;
    this.#deliver(m.o, Buffer.from(m.e, 'utf8'));
  }

  #deliver(origin: string, events: Buffer): void {
    for (const s of this.sessions()) if (s.nodeId !== origin) s.sendRunEvents(events);
  }
}
