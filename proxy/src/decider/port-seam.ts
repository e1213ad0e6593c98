// The loop's end of the seam: decisions asked of a decider on another thread, over a port.
import type { MessagePort } from 'node:worker_threads';
import { settledFigures, type Outcome, type Settled } from '../budget/settle.js';
import type { Chain, Inspection } from '../chain/chain.js';
import { sentText, type RequestContext } from '../chain/context.js';
import type { Verdict } from '../core/verdict.js';
import type { DecisionRecord } from '../pipeline/decision-record.js';
import type { DecisionSeam } from './seam.js';
import type { DecisionView, InspectAnswer, LoopAsk, ResponseShape, ToDecider, ToLoop } from './messages.js';
import { RemoteInspection, type InspectionLink } from './inspection.js';
import { onBatches, Outbox } from './outbox.js';
import { answerOf, takeReply, viewOf } from './view.js';

interface Waiting {
  ctx: RequestContext;
  resolve: (v: Verdict) => void;
}

export class PortSeam implements DecisionSeam {
  /** The loop's chain: the same declared stages as the decider's, of which it runs the loop stages. */
  readonly #chain: Chain;
  readonly #port: MessagePort;
  readonly #outbox: Outbox<ToDecider>;
  readonly #waiting = new Map<string, Waiting>();
  readonly #inspecting = new Map<string, (a: InspectAnswer) => void>();
  readonly #inspections: InspectionLink = {
    ask: (request, message) =>
      new Promise((resolve) => {
        this.#inspecting.set(request, resolve);
        this.#held();
        this.#send({ ...message, request });
      }),
    // Sent with the exchange's end (settle or done), which follows at once: one message fewer.
    close: (request, delivered) => void this.#delivered.set(request, delivered),
  };
  /** Responses closed, and whether each reached the agent whole, until their exchange ends. */
  readonly #delivered = new Map<string, boolean>();
  /** Exchanges whose end went with their settlement. */
  readonly #ended = new Set<string>();

  constructor(chain: Chain, port: MessagePort) {
    this.#chain = chain;
    this.#port = port;
    this.#outbox = new Outbox(port);
    onBatches<ToLoop>(port, (m) => this.#receive(m));
    port.unref();
  }

  /** While a request waits on the decider, the port keeps the thread alive; an idle port does not. */
  #held(): void {
    if (this.#pending() === 1) this.#port.ref();
  }

  #released(): void {
    if (this.#pending() === 0) this.#port.unref();
  }

  #pending(): number {
    return this.#waiting.size + this.#inspecting.size;
  }

  #send(m: ToDecider): void {
    this.#outbox.send(m);
  }

  /**
   * The loop stages the chain starts with go first, here, and the loop stages further on whose
   * verdict does not depend on the principal (content scanning) too; then one message to the decider.
   */
  async decide(ctx: RequestContext, source: string): Promise<Verdict> {
    const to = this.#chain.loopRunEnd(0);
    const verdict = to > 0 ? await this.#chain.runStagesBounded(0, to, ctx) : null;
    let ahead: DecisionView['ahead'] = null;
    // Only for a request that presents a credential or a workload: scanning is not spent on callers nobody knows yet.
    const known = ctx.presented.virtual !== null || ctx.presented.realIn !== null || ctx.principal !== null;
    const run = verdict || !known ? null : this.#chain.aheadRun(to);
    if (run) {
      const before = ctx.notes.length;
      ahead = { ...run, answer: answerOf(ctx, await this.#chain.runStagesBounded(run.from, run.to, ctx), before) };
    }
    return new Promise((resolve) => {
      this.#waiting.set(ctx.id, { ctx, resolve });
      this.#held();
      this.#send({ t: 'decide', view: viewOf(ctx, source, { to, verdict }, ahead) });
    });
  }

  /** Worked out here, booked by the decider that holds the reservation: nothing to wait for. */
  settle(ctx: RequestContext, outcome: Outcome, now: number): Settled | null {
    if (!ctx.charge || this.#ended.has(ctx.id)) return null;
    const settled = settledFigures(ctx.charge, outcome);
    this.#ended.add(ctx.id);
    const { upstreamCalled, provider, model } = outcome;
    this.#send({ t: 'settle', settle: { request: ctx.id, settled, booking: { upstreamCalled, provider, model }, now }, delivered: this.#takeDelivered(ctx.id) });
    return settled;
  }

  /** The exchange's audit record goes to the decider's side, behind its end. */
  record(record: DecisionRecord): void {
    this.#send({ t: 'record', record });
  }

  /** Opened on the decider with the first batch: a response that never gets one costs no message. */
  openResponse(ctx: RequestContext, response: ResponseShape): Inspection {
    return new RemoteInspection(ctx, this.#inspections, response);
  }

  release(ctx: RequestContext): void {
    if (this.#ended.delete(ctx.id)) return;
    this.#send({ t: 'done', request: ctx.id, delivered: this.#takeDelivered(ctx.id) });
  }

  #takeDelivered(request: string): boolean {
    const delivered = this.#delivered.get(request) ?? false;
    this.#delivered.delete(request);
    return delivered;
  }

  #receive(m: ToLoop): void {
    switch (m.t) {
      case 'ask': {
        const waiting = this.#waiting.get(m.ask.request);
        if (waiting) void this.#runStage(waiting.ctx, m.ask);
        return;
      }
      case 'body': {
        const waiting = this.#waiting.get(m.ask.request);
        return this.#send({ t: 'body', request: m.ask.request, text: waiting ? sentText(waiting.ctx) : null });
      }
      case 'reply': {
        const waiting = this.#waiting.get(m.reply.request);
        this.#waiting.delete(m.reply.request);
        this.#released();
        return waiting?.resolve(takeReply(waiting.ctx, m.reply));
      }
      case 'inspected': {
        const resolve = this.#inspecting.get(m.answer.request);
        this.#inspecting.delete(m.answer.request);
        this.#released();
        return resolve?.(m.answer);
      }
    }
  }

  /** Loop stages the decider asked for, on this loop's copy of the request; a failure is their verdict (fail closed). */
  async #runStage(ctx: RequestContext, ask: LoopAsk): Promise<void> {
    ctx.principal = ask.principal;
    const before = ctx.notes.length;
    const verdict = await this.#chain.runStages(ask.from, ask.to, ctx);
    this.#send({ t: 'answer', answer: answerOf(ctx, verdict, before) });
  }
}
