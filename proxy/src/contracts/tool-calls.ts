import type { ToolDelta } from '../core/fragment.js';

/** A tool call the model is making, assembled from its stream pieces. */
export interface ToolCallInProgress {
  key: string;
  id: string | undefined;
  name: string;
  /** Argument JSON text received so far, or the whole object where the provider sent one. */
  argsText: string;
  input: unknown;
  /** Position of the fragment that introduced the call. */
  startSeq: number;
}

export interface ToolCallEvents {
  /** Calls whose name arrived in this delta batch. */
  started: ToolCallInProgress[];
  /** Calls whose arguments completed in this batch. */
  completed: ToolCallInProgress[];
}

const MAX_ARGS_CHARS = 1024 * 1024;

/** Assembles the tool calls of one response from the pieces each fragment carries. */
export class ToolCallTracker {
  readonly #open = new Map<string, ToolCallInProgress>();

  apply(deltas: readonly ToolDelta[], seq: number): ToolCallEvents {
    const started: ToolCallInProgress[] = [];
    const completed: ToolCallInProgress[] = [];
    for (const d of deltas) {
      if (d.key.endsWith('*')) {
        if (d.done) this.#completeWhere(d.key.slice(0, -1), completed);
        continue;
      }
      let c = this.#open.get(d.key);
      if (!c && d.name !== undefined) {
        c = { key: d.key, id: d.id, name: d.name, argsText: '', input: undefined, startSeq: seq };
        this.#open.set(d.key, c);
        started.push(c);
      }
      if (!c) continue;
      if (d.args !== undefined && c.argsText.length < MAX_ARGS_CHARS) c.argsText += d.args;
      if (d.input !== undefined) c.input = d.input;
      if (d.done) {
        this.#open.delete(d.key);
        completed.push(c);
      }
    }
    return { started, completed };
  }

  /** Every call still open: the stream ended, so whatever arrived is all there is. */
  completeAll(): ToolCallInProgress[] {
    const out = [...this.#open.values()];
    this.#open.clear();
    return out;
  }

  #completeWhere(prefix: string, out: ToolCallInProgress[]): void {
    for (const [key, c] of this.#open) {
      if (!key.startsWith(prefix)) continue;
      this.#open.delete(key);
      out.push(c);
    }
  }
}

/** The arguments of a completed call: the object the provider sent, or the JSON text streamed. */
export function callArguments(c: ToolCallInProgress): unknown {
  return c.input !== undefined ? c.input : c.argsText;
}
