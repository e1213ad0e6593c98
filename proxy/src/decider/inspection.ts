// A response's way through the response stages across the seam: the loop holds the response's
// fragments and writes them; the decider's stages (which record run state: evidence, data flow,
// tool flows, listed tools) inspect copies and say what to cut, hold or mask.
import type { Inspection, ResponseInspection } from '../chain/chain.js';
import type { FragmentFinding } from '../chain/stage.js';
import type { RequestContext } from '../chain/context.js';
import type { Fragment } from '../core/fragment.js';
import type { FragmentMark, InspectAnswer, ResponseShape } from './messages.js';

/** What of a fragment the stages read: not its wire bytes, usage or timings. */
function copyable(f: Fragment): Fragment {
  const out: Fragment = { text: f.text };
  if (f.tools) out.tools = f.tools;
  if (f.seq !== undefined) out.seq = f.seq;
  if (f.outcomes) out.outcomes = f.outcomes;
  if (f.body) out.body = f.body;
  return out;
}

/** Fragments a side keeps while a stage may still change them: those not yet written (from the first held on). */
function prune(kept: Map<number, unknown>, heldFrom: number | null): void {
  for (const seq of kept.keys()) if (heldFrom === null || seq < heldFrom) kept.delete(seq);
}

export interface InspectionLink {
  /** Sends a batch (or the end) to the decider and resolves with its answer. */
  ask(request: string, message: { t: 'inspect'; fragments: Fragment[]; last: boolean; open?: ResponseShape } | { t: 'finish'; open?: ResponseShape }): Promise<InspectAnswer>;
  close(request: string, delivered: boolean): void;
}

/** Loop side: the relay's Inspection, answered by the decider. */
export class RemoteInspection implements Inspection {
  readonly #ctx: RequestContext;
  readonly #request: string;
  readonly #link: InspectionLink;
  /** The loop's own fragments by position, for the decider's marks to land on. */
  readonly #kept = new Map<number, Fragment>();
  #heldFrom: number | null = null;
  #none = false;
  #closed = false;
  /** How the response is delivered: sent with the first message, which opens the decider's stages. */
  #open: ResponseShape | undefined;
  /** What the decider decided at the end, answered with the last batch. */
  #finished: FragmentFinding | null | undefined;

  constructor(ctx: RequestContext, link: InspectionLink, open: ResponseShape) {
    this.#ctx = ctx;
    this.#request = ctx.id;
    this.#link = link;
    this.#open = open;
  }

  #opening(): { open?: ResponseShape } {
    const open = this.#open;
    this.#open = undefined;
    return open ? { open } : {};
  }

  inspect(fragments: readonly Fragment[], last = false): FragmentFinding | null | Promise<FragmentFinding | null> {
    if (this.#none) return null;
    for (const f of fragments) this.#kept.set(f.seq ?? 0, f);
    return this.#link.ask(this.#request, { t: 'inspect', fragments: fragments.map(copyable), last, ...this.#opening() }).then((a) => {
      this.#finished = a.finished;
      return this.#take(a);
    });
  }

  heldFrom(): number | null {
    return this.#heldFrom;
  }

  finish(): FragmentFinding | null | Promise<FragmentFinding | null> {
    if (this.#none) return null;
    if (this.#finished !== undefined) return this.#finished;
    return this.#link.ask(this.#request, { t: 'finish', ...this.#opening() }).then((a) => this.#take(a));
  }

  close(delivered = false): void {
    // Never opened on the decider (nothing was inspected): nothing to close there.
    if (this.#closed || this.#open) return;
    this.#closed = true;
    this.#link.close(this.#request, delivered);
  }

  #take(a: InspectAnswer): FragmentFinding | null {
    this.#none = a.none;
    if (a.notes.length) this.#ctx.notes.push(...a.notes);
    if (a.content) this.#ctx.content = a.content;
    this.#heldFrom = a.heldFrom;
    for (const m of a.marks) {
      const f = this.#kept.get(m.seq);
      if (!f) continue;
      if (m.redaction !== undefined) f.redaction = m.redaction ?? undefined;
      // In place: the whole-body path holds the body object it handed over.
      if (m.body !== undefined && f.body) Object.assign(f.body, m.body);
    }
    prune(this.#kept, a.finding ? null : a.heldFrom);
    return a.finding;
  }
}

/** Decider side: the chain's inspection of one response, fed the loop's copies, answering with what changed. */
export class HostedInspection {
  readonly #ctx: RequestContext | null;
  readonly #inspection: ResponseInspection | null;
  /** How many of the request's notes the loop has. */
  #notesSent: number;
  /** The copies a stage may still change, and the mask each had when last reported. */
  readonly #kept = new Map<number, Fragment>();
  readonly #reported = new Map<number, Fragment['redaction']>();

  constructor(readonly request: string, ctx: RequestContext | null, inspection: ResponseInspection | null) {
    this.#ctx = ctx;
    this.#inspection = inspection;
    this.#notesSent = ctx?.notes.length ?? 0;
  }

  inspect(fragments: Fragment[], last: boolean): InspectAnswer | Promise<InspectAnswer> {
    if (!this.#inspection) return this.#answer(null);
    for (const f of fragments) this.#kept.set(f.seq ?? 0, f);
    const found = this.#inspection.inspect(fragments);
    const answer = (f: FragmentFinding | null): InspectAnswer => {
      // The last batch left nothing to cut: the end decides on what is still held, in the same answer.
      if (!last || f) return this.#answer(f);
      const finished = this.#inspection!.finish();
      return { ...this.#answer(finished), finding: null, finished };
    };
    return found instanceof Promise ? found.then(answer) : answer(found);
  }

  finish(): InspectAnswer {
    return this.#answer(this.#inspection?.finish() ?? null);
  }

  close(delivered: boolean): void {
    this.#inspection?.close(delivered);
  }

  #answer(finding: FragmentFinding | null): InspectAnswer {
    if (!this.#inspection) return { request: this.request, finding: null, heldFrom: null, none: true, marks: [], notes: [], content: null };
    const marks: FragmentMark[] = [];
    for (const [seq, f] of this.#kept) {
      const mark: FragmentMark = { seq };
      if (f.redaction !== this.#reported.get(seq)) {
        mark.redaction = f.redaction ?? null;
        this.#reported.set(seq, f.redaction);
      }
      if (f.body?.rewritten) mark.body = f.body;
      if (mark.redaction !== undefined || mark.body !== undefined) marks.push(mark);
    }
    const heldFrom = this.#inspection.heldFrom();
    prune(this.#kept, finding ? null : heldFrom);
    for (const seq of this.#reported.keys()) if (!this.#kept.has(seq)) this.#reported.delete(seq);
    const notes = this.#ctx ? this.#ctx.notes.slice(this.#notesSent) : [];
    this.#notesSent += notes.length;
    return { request: this.request, finding, heldFrom, none: false, marks, notes, content: this.#ctx?.content ?? null };
  }
}
