import { hash } from 'node:crypto';
import type { CallView } from '../core/call-view.js';

export interface RunLoopPolicy {
  /** Repeats of one request pattern within a run before a warning, a block, the run's end. */
  warnAfter: number;
  blockAfter: number;
  terminateAfter: number;
  /** Repeats older than this no longer count; an idle run is forgotten after it. */
  windowMs: number;
}

export const DEFAULT_RUN_LOOPS: RunLoopPolicy = { warnAfter: 3, blockAfter: 5, terminateAfter: 8, windowMs: 600_000 };

interface Run {
  seen: Map<string, number[]>;
  terminated: boolean;
  lastSeen: number;
}

/**
 * The pattern of a request: the model and the turn it adds (its last two messages, tool calls
 * and results included); for an MCP request, the tool calls it makes.
 */
export function requestPattern(call: CallView): string {
  if (call.mcp) return hash('sha256', JSON.stringify([call.upstream, call.toolCalls.map((c) => [c.name, c.arguments])]), 'base64url');
  const tail = call.messages.slice(-2).map((m) => [m.role, m.text, m.toolCalls.map((c) => [c.name, c.arguments]), m.toolResults.map((r) => r.content)]);
  return hash('sha256', JSON.stringify([call.model, call.operation, tail]), 'base64url');
}

export type RunStep = { kind: 'ok' } | { kind: 'warn' | 'block' | 'terminate'; repeats: number } | { kind: 'terminated' };

const MAX_RUNS = 100_000;

/**
 * Repeats per run (x-altrace-run), in memory. A run that keeps sending the same request is
 * warned, then refused, then terminated: once terminated every request of the run is refused.
 */
export class RunTracker {
  readonly #runs = new Map<string, Run>();
  /** Told of each step taken here (not merged): a followed node shares it with the fleet. */
  onStep: ((agent: string, runId: string, pattern: string, now: number) => void) | null = null;

  constructor(private readonly policy: () => RunLoopPolicy) {}

  step(agent: string, runId: string, pattern: string, now: number): RunStep {
    const step = this.merge(agent, runId, pattern, now);
    this.onStep?.(agent, runId, pattern, now);
    return step;
  }

  /** A step of the same run taken on another node of the fleet: counted as if taken here. */
  merge(agent: string, runId: string, pattern: string, now: number): RunStep {
    const p = this.policy();
    const id = `${agent}\u0000${runId}`;
    let run = this.#runs.get(id);
    if (run) this.#runs.delete(id); // re-inserted below: the Map's order is recency
    else run = { seen: new Map(), terminated: false, lastSeen: now };
    run.lastSeen = now;
    this.#runs.set(id, run);
    this.#evict(now, p.windowMs);
    if (run.terminated) return { kind: 'terminated' };
    const times = (run.seen.get(pattern) ?? []).filter((t) => now - t < p.windowMs);
    times.push(now);
    run.seen.set(pattern, times);
    const repeats = times.length;
    if (repeats >= p.terminateAfter) {
      run.terminated = true;
      return { kind: 'terminate', repeats };
    }
    if (repeats >= p.blockAfter) return { kind: 'block', repeats };
    if (repeats >= p.warnAfter) return { kind: 'warn', repeats };
    return { kind: 'ok' };
  }

  get size(): number {
    return this.#runs.size;
  }

  #evict(now: number, windowMs: number): void {
    for (const [id, run] of this.#runs) {
      if (this.#runs.size <= MAX_RUNS && now - run.lastSeen < windowMs) break;
      this.#runs.delete(id);
    }
  }
}
