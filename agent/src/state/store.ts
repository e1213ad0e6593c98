import type { VirtualKey } from '../../../proxy/src/index.js';

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
  findOperatorToken(hash: string): { name: string; team: string | null } | null;
  countOperatorTokens(): number;
  close(): void;
}
