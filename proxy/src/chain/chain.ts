import type { RequestContext, ResponseContext } from './context.js';
import type { Fragment } from '../core/fragment.js';
import { BANDS, type FragmentFinding, type FragmentInspector, type RequestStage, type ResponseStage, type Stage, type StageDescription } from './stage.js';

/**
 * The loop's side of a decision made across the decider seam: the decider reaches a `loop`
 * stage in the declared order and asks the loop that holds the request to run it, on the
 * loop's copy of the request, with what the decider has established so far (docs/scaling.md).
 */
export interface LoopStages {
  /**
   * Runs the loop stages at positions [from, to) in order, as the chain would (a warning joins
   * the notes, the first stop ends the run and is returned); one ask for adjacent loop stages.
   */
  evaluate(from: number, to: number, ctx: RequestContext): Verdict | null | Promise<Verdict | null>;
}
import { ALLOWED, isStop, type Verdict } from '../core/verdict.js';

export interface ChainOptions {
  /** How long an asynchronous stage may take before the chain refuses the request. */
  stageTimeoutMs: number;
}

export class ChainCompositionError extends Error {
  readonly code = 'ALT_CHAIN_INVALID';
}

export function stageFailed(stage: string, err: unknown): Verdict {
  const detail = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { outcome: 'block', reason: 'ALT_STAGE_FAILED', stage, detail };
}

function timedOut(stage: string, ms: number): Verdict {
  return { outcome: 'block', reason: 'ALT_STAGE_TIMEOUT', stage, detail: `no decision within ${ms} ms` };
}

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => T): Promise<T> {
  let timer: NodeJS.Timeout;
  const t = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout()), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/**
 * The decision chain, composed once at start-up: stages sorted by band, ids checked.
 * Per request there is only evaluation; the first stopping verdict decides, warnings
 * are collected on the context, and a stage that throws or stalls blocks (fail closed).
 */
export class Chain {
  readonly #request: RequestStage[];
  readonly #response: ResponseStage[];
  readonly #described: StageDescription[];
  readonly #timeoutMs: number;

  constructor(stages: readonly Stage[], options: ChainOptions) {
    const seen = new Set<string>();
    for (const s of stages) {
      if (seen.has(s.id)) throw new ChainCompositionError(`stage id "${s.id}" is declared twice`);
      if (!BANDS.includes(s.band)) throw new ChainCompositionError(`stage "${s.id}" has unknown band "${s.band}"`);
      seen.add(s.id);
    }
    const ordered = stages
      .map((s, i) => ({ s, i }))
      .sort((a, b) => BANDS.indexOf(a.s.band) - BANDS.indexOf(b.s.band) || a.i - b.i)
      .map(({ s }) => s);
    this.#request = ordered.filter((s): s is RequestStage => s.side === 'request');
    this.#response = ordered.filter((s): s is ResponseStage => s.side === 'response');
    this.#described = [...this.#request, ...this.#response].map((s, order) => ({
      order,
      id: s.id,
      band: s.band,
      side: s.side,
      // Response stages run in the decider, fed each batch by the loop that relays the response.
      place: s.side === 'request' ? (s.place ?? 'decider') : 'decider',
      summary: s.summary,
    }));
    this.#timeoutMs = options.stageTimeoutMs;
  }

  describe(): StageDescription[] {
    return this.#described;
  }

  /**
   * Synchronous while every stage is: the common path allocates no promise. Without `loop`,
   * every stage runs here on `ctx` (one loop); with it, this is the decider, and each `loop`
   * stage is asked of the loop at its place in the order.
   */
  evaluateRequest(ctx: RequestContext, loop?: LoopStages, from = 0): Verdict | Promise<Verdict> {
    return this.#runFrom(from, ctx, loop);
  }

  /**
   * runStages bounded by the stage timeout, as the chain bounds a stage: for the runs a loop
   * starts itself, before any decider waits on them.
   */
  runStagesBounded(from: number, to: number, ctx: RequestContext): Verdict | null | Promise<Verdict | null> {
    const out = this.runStages(from, to, ctx);
    if (!(out instanceof Promise)) return out;
    const id = this.#request[from]?.id ?? 'chain';
    return withTimeout(out, this.#timeoutMs, () => timedOut(id, this.#timeoutMs));
  }

  /** The first run of loop stages after `from` that the loop may run before asking (every stage in it says so), or null. */
  aheadRun(from: number): { from: number; to: number } | null {
    let i = from;
    while (i < this.#request.length && this.#request[i]!.place !== 'loop') i++;
    if (i >= this.#request.length) return null;
    const to = this.loopRunEnd(i);
    for (let k = i; k < to; k++) if (!this.#request[k]!.ahead?.()) return null;
    return { from: i, to };
  }

  /** Where the run of loop stages that starts at `from` ends: the first decider stage after it (or the end). */
  loopRunEnd(from: number): number {
    let to = from;
    while (to < this.#request.length && this.#request[to]!.place === 'loop') to++;
    return to;
  }

  /**
   * The loop's side of an ask: the request stages at positions [from, to), in order, on the
   * loop's copy of the request. A warning joins the notes; the first stop is returned; a stage
   * that throws or rejects is a stop with its own id (fail closed). The decider bounds the wait.
   */
  runStages(from: number, to: number, ctx: RequestContext): Verdict | null | Promise<Verdict | null> {
    for (let i = from; i < to; i++) {
      const stage = this.#request[i];
      if (!stage) return stageFailed('chain', `no request stage at position ${i}`);
      let out: Verdict | null | Promise<Verdict | null>;
      try {
        out = stage.evaluate(ctx);
      } catch (err) {
        return stageFailed(stage.id, err);
      }
      if (out instanceof Promise) {
        return out.then(
          (v) => this.#settle(v, ctx) ?? this.runStages(i + 1, to, ctx),
          (err: unknown) => stageFailed(stage.id, err),
        );
      }
      const stop = this.#settle(out, ctx);
      if (stop) return stop;
    }
    return null;
  }

  #runFrom(start: number, ctx: RequestContext, loop: LoopStages | undefined): Verdict | Promise<Verdict> {
    const stages = this.#request;
    for (let i = start; i < stages.length; i++) {
      const stage = stages[i]!;
      let out: Verdict | null | Promise<Verdict | null>;
      // The loop runs adjacent loop stages in one go; the chain goes on after the last of them.
      const next = loop !== undefined && stage.place === 'loop' ? this.loopRunEnd(i) : i + 1;
      try {
        out = loop !== undefined && stage.place === 'loop' ? loop.evaluate(i, next, ctx) : stage.evaluate(ctx);
      } catch (err) {
        return stageFailed(stage.id, err);
      }
      if (out instanceof Promise) {
        const guarded = out.catch((err: unknown) => stageFailed(stage.id, err));
        const bounded = stage.unbounded ? guarded : withTimeout(guarded, this.#timeoutMs, () => timedOut(stage.id, this.#timeoutMs));
        return bounded.then((v) => this.#settle(v, ctx) ?? this.#runFrom(next, ctx, loop));
      }
      const decided = this.#settle(out, ctx);
      if (decided) return decided;
      i = next - 1;
    }
    return ALLOWED;
  }

  /**
   * Every request stage's verdict, in order, up to the one that decides: what
   * `altrace policy explain` prints. Not the hot path: it awaits each stage.
   */
  async trace(ctx: RequestContext): Promise<{ id: string; band: string; verdict: Verdict | null }[]> {
    const out: { id: string; band: string; verdict: Verdict | null }[] = [];
    for (const stage of this.#request) {
      let v: Verdict | null;
      try {
        v = await stage.evaluate(ctx);
      } catch (err) {
        v = stageFailed(stage.id, err);
      }
      out.push({ id: stage.id, band: stage.band, verdict: v });
      // As evaluation settles it: a stop ends the trace, a warning joins the notes.
      if (this.#settle(v, ctx)) break;
    }
    return out;
  }

  #settle(v: Verdict | null, ctx: RequestContext): Verdict | null {
    if (v === null || v.outcome === 'allow') return null;
    if (isStop(v)) return v;
    ctx.notes.push(v);
    return null;
  }

  /** Opens every response stage's inspector for one response; null when none applies. */
  openResponse(ctx: ResponseContext): ResponseInspection | null {
    const inspectors: { id: string; inspector: FragmentInspector }[] = [];
    for (const stage of this.#response) {
      try {
        const inspector = stage.open(ctx);
        if (inspector) inspectors.push({ id: stage.id, inspector });
      } catch (err) {
        return new ResponseInspection([], stageFailed(stage.id, err), this.#timeoutMs);
      }
    }
    return inspectors.length ? new ResponseInspection(inspectors, null, this.#timeoutMs) : null;
  }
}

/** Where a finding cuts, as a position in the response. */
export function findingSeq(f: FragmentFinding, fragments: readonly Fragment[]): number {
  return f.seq ?? fragments[f.index]?.seq ?? f.index;
}

function earlier(a: FragmentFinding | null, b: FragmentFinding | null, fragments: readonly Fragment[]): FragmentFinding | null {
  if (!b) return a;
  return !a || findingSeq(b, fragments) < findingSeq(a, fragments) ? b : a;
}

/**
 * One response's way through the response stages, as the relay and the whole-body path use it:
 * the chain's own (ResponseInspection), or the decider's across the seam, whose answers arrive later.
 */
export interface Inspection {
  /** `last`: no batch follows (the caller asks `finish` next when nothing was found): a remote inspection decides both at once. */
  inspect(fragments: readonly Fragment[], last?: boolean): FragmentFinding | null | Promise<FragmentFinding | null>;
  heldFrom(): number | null;
  finish(): FragmentFinding | null | Promise<FragmentFinding | null>;
  close(delivered?: boolean): void;
}

/** The response side for one response: batches go through every inspector, in order. */
export class ResponseInspection implements Inspection {
  readonly #inspectors: { id: string; inspector: FragmentInspector }[];
  readonly #openFailure: Verdict | null;
  readonly #timeoutMs: number;

  constructor(inspectors: { id: string; inspector: FragmentInspector }[], openFailure: Verdict | null, timeoutMs: number) {
    this.#inspectors = inspectors;
    this.#openFailure = openFailure;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * The first fragment (lowest index over all stages) that must not be delivered.
   * Synchronous while every inspector is, like the request side.
   */
  inspect(fragments: readonly Fragment[]): FragmentFinding | null | Promise<FragmentFinding | null> {
    if (this.#openFailure) return { index: 0, verdict: this.#openFailure };
    return this.#inspectFrom(0, fragments, null);
  }

  #inspectFrom(start: number, fragments: readonly Fragment[], first: FragmentFinding | null): FragmentFinding | null | Promise<FragmentFinding | null> {
    let earliest = first;
    for (let i = start; i < this.#inspectors.length; i++) {
      const { id, inspector } = this.#inspectors[i]!;
      let out: FragmentFinding | null | Promise<FragmentFinding | null>;
      try {
        out = inspector.inspect(fragments);
      } catch (err) {
        out = { index: 0, verdict: stageFailed(id, err) };
      }
      if (out instanceof Promise) {
        const guarded = out.catch((err: unknown) => ({ index: 0, verdict: stageFailed(id, err) }));
        const sofar = earliest;
        const bounded = inspector.unbounded ? guarded : withTimeout(guarded, this.#timeoutMs, () => ({ index: 0, verdict: timedOut(id, this.#timeoutMs) }));
        return bounded.then((found) => this.#inspectFrom(i + 1, fragments, earlier(sofar, found, fragments)));
      }
      earliest = earlier(earliest, out, fragments);
    }
    return earliest;
  }

  /** The earliest position any inspector still holds back; null when none does. */
  heldFrom(): number | null {
    let min: number | null = null;
    for (const { inspector } of this.#inspectors) {
      const h = inspector.heldFrom?.() ?? null;
      if (h !== null && (min === null || h < min)) min = h;
    }
    return min;
  }

  /** The response ended: every inspector decides on what it still holds. */
  finish(): FragmentFinding | null {
    let earliest: FragmentFinding | null = null;
    for (const { id, inspector } of this.#inspectors) {
      let out: FragmentFinding | null;
      try {
        out = inspector.finish?.() ?? null;
      } catch (err) {
        out = { index: 0, seq: 0, verdict: stageFailed(id, err) };
      }
      earliest = earlier(earliest, out, []);
    }
    return earliest;
  }

  /** Every stage's inspector is closed, told whether the response reached the agent whole and uncut. */
  close(delivered = false): void {
    for (const { inspector } of this.#inspectors) inspector.close(delivered);
  }
}
