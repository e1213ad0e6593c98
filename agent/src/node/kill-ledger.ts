import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../state/durable-file.js';

/** Whose a killed cgroup is: what a restarted agent needs to release the kill that put it there. */
export interface KilledCgroup {
  cgroupId: string;
  cgroupPath: string | null;
  /** The shadow id, and the agent and team a virtual key bound it to. */
  id: string;
  agent: string | null;
  team: string | null;
}

/**
 * The cgroups this node has put in the kernel's deny map, and whose they are, on disk (fsynced
 * before the map entry is written). The pinned deny map outlives the agent but holds only cgroup
 * ids; with this beside it, a restarted agent knows which kill switch each entry answers to, so
 * releasing that switch reaches the kernel.
 */
export class KillLedger {
  readonly #path: string;
  readonly #entries = new Map<string, KilledCgroup>();

  constructor(stateDir: string) {
    this.#path = join(stateDir, 'node', 'killed-cgroups.json');
    if (!existsSync(this.#path)) return;
    const doc = JSON.parse(readFileSync(this.#path, 'utf8')) as { killed?: KilledCgroup[] };
    for (const k of doc.killed ?? []) this.#entries.set(k.cgroupId, k);
  }

  get(cgroupId: bigint): KilledCgroup | undefined {
    return this.#entries.get(String(cgroupId));
  }

  list(): KilledCgroup[] {
    return [...this.#entries.values()];
  }

  record(entries: readonly KilledCgroup[]): void {
    const before = this.#entries.size;
    let changed = false;
    for (const e of entries) {
      const old = this.#entries.get(e.cgroupId);
      if (old && old.agent === e.agent && old.team === e.team && old.id === e.id) continue;
      this.#entries.set(e.cgroupId, e);
      changed = true;
    }
    if (changed || this.#entries.size !== before) this.#write();
  }

  forget(cgroupIds: readonly bigint[]): void {
    let changed = false;
    for (const id of cgroupIds) changed = this.#entries.delete(String(id)) || changed;
    if (changed) this.#write();
  }

  #write(): void {
    writeFileDurably(this.#path, JSON.stringify({ killed: [...this.#entries.values()] }));
  }
}
