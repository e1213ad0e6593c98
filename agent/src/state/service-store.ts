import type { Store } from './store.js';

type Either<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Awaited<R> | Promise<Awaited<R>> : never };

/** The Store's operations, answered at once (SQLite on a node) or later (PostgreSQL on the control plane). */
export type StoreOps = Either<Omit<Store, 'transaction' | 'close'>>;

/**
 * The store the services take: SqliteStore and PgStore both satisfy it, so the same service code
 * runs on a single node and on a control-plane replica. Services await every call and touch the
 * in-memory registries only once it resolved (persist before acknowledge).
 */
export interface ServiceStore extends StoreOps {
  /**
   * Runs `fn` as one transaction: every write made through `tx` commits, or none does. `fn` may
   * await only `tx` (on SQLite the transaction holds the one connection while it runs).
   */
  transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T>;
}
