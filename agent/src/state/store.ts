import type { KillScope, KillSwitch, VirtualKey } from '../../../proxy/src/index.js';

export interface OperatorToken {
  name: string;
  /** Null: an admin token, every team. */
  team: string | null;
  createdAt: number;
}

/**
 * The agent's durable state. Every write returns only once it is on disk; the hot path
 * never reads from here (it reads the in-memory registries this store fills).
 */
export interface Store {
  insertKey(key: VirtualKey): void;
  updateKey(key: VirtualKey): void;
  listKeys(): VirtualKey[];
  /** Operator tokens, stored as hashes. */
  addOperatorToken(hash: string, name: string, team: string | null): void;
  findOperatorToken(hash: string): OperatorToken | null;
  listOperatorTokens(): OperatorToken[];
  deleteOperatorToken(name: string): boolean;
  countOperatorTokens(): number;
  putKill(k: KillSwitch): void;
  deleteKill(scope: KillScope, target: string): boolean;
  listKills(): KillSwitch[];
  /** Runs `fn` as one transaction: all of its writes reach the disk, or none do. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
