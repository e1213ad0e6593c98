// Every message between the agent and its audit writer thread, typed in one place.

export interface WriterConfig {
  stateDir: string;
  /** Checkpoint origin and signing key name. */
  origin: string;
  checkpointIntervalMs: number;
}

export type ToWriter =
  /** Events encoded on the agent's thread (event-batch.ts: a length before each, as records.ts unpackEvents reads them) and transferred. */
  | { type: 'append'; events: ArrayBuffer }
  /** Appended and fsynced before the writer answers `written` with the same id. */
  | { type: 'durable'; id: number; events: ArrayBuffer }
  | { type: 'checkpoint'; id: number }
  | { type: 'close'; id: number };

export type FromWriter =
  | { type: 'ready'; size: number; verifierKey: string; repairedBytes: number }
  | { type: 'written'; id: number; size: number }
  | { type: 'checkpointed'; id: number; size: number; note: string | null }
  | { type: 'closed'; id: number }
  | { type: 'failed'; id: number | null; message: string };
