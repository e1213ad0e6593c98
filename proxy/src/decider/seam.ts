// Where a request's decision is made: the seam between the loop that holds the request and
// the decider that holds the state (docs/scaling.md). One loop calls the chain in process;
// the copied seam sends every message across as the multi-loop data plane will.
import type { SpendAttribution } from '../budget/attribution.js';
import type { Charge } from '../budget/charge.js';
import type { BudgetLedger } from '../budget/ledger.js';
import { settleCharge, type Outcome, type Settled } from '../budget/settle.js';
import type { Chain, LoopStages } from '../chain/chain.js';
import { sentText, type RequestContext } from '../chain/context.js';
import type { Verdict } from '../core/verdict.js';
import type { LoopAnswer, LoopAsk } from './messages.js';
import { answerOf, deciderContext, replyOf, takeAnswer, takeReply, viewOf } from './view.js';

export type SeamKind = 'direct' | 'copied';

export interface Budgets {
  ledger: BudgetLedger;
  attribution: SpendAttribution;
}

export interface DecisionSeam {
  readonly kind: SeamKind;
  /** Phase 1's verdict; afterwards `ctx` holds what the decision established (principal, contracts, charge, notes). */
  decide(ctx: RequestContext): Verdict | Promise<Verdict>;
  /** Phase 4: the request's charge settles where it was reserved. Null when it had none. */
  settle(ctx: RequestContext, outcome: Outcome, now: number): Settled | null;
}

/** One loop: the chain runs in process on the request itself; nothing is copied, nothing waits. */
export class DirectSeam implements DecisionSeam {
  readonly kind = 'direct';
  readonly #chain: Chain;
  readonly #budgets: Budgets;

  constructor(chain: Chain, budgets: Budgets) {
    this.#chain = chain;
    this.#budgets = budgets;
  }

  decide(ctx: RequestContext): Verdict | Promise<Verdict> {
    return this.#chain.evaluateRequest(ctx);
  }

  settle(ctx: RequestContext, outcome: Outcome, now: number): Settled | null {
    return ctx.charge ? settleCharge(this.#budgets.ledger, this.#budgets.attribution, ctx.charge, outcome, now) : null;
  }
}

/** A message crossing to the other side: a copy, delivered on a later turn of the event loop, as between threads. */
function cross<T>(message: T): Promise<T> {
  return new Promise((resolve) => setImmediate(() => resolve(structuredClone(message))));
}

/**
 * Every decision crosses the seam as messages (messages.ts), copied and delivered later, with
 * the loop's and the decider's copies of the request apart: the protocol the multi-loop data
 * plane speaks over MessagePorts, run in one process so that the whole suite can check that
 * it decides exactly as one loop does. Slower than direct; for tests and diagnosis.
 */
export class CopiedSeam implements DecisionSeam {
  readonly kind = 'copied';
  readonly #chain: Chain;
  readonly #budgets: Budgets;
  /** Decider side: the charges of requests still under way, with their reservations, by request id. */
  readonly #charges = new Map<string, Charge>();

  constructor(chain: Chain, budgets: Budgets) {
    this.#chain = chain;
    this.#budgets = budgets;
  }

  async decide(loopCtx: RequestContext): Promise<Verdict> {
    const view = await cross(viewOf(loopCtx));
    const ctx = deciderContext(view, {
      bytes: view.ingress.bodyBytes,
      text: () => cross({ request: view.id }).then(() => cross(sentText(loopCtx))),
    });
    const loop: LoopStages = {
      evaluate: (stage, decided) => cross<LoopAsk>({ request: view.id, stage, principal: decided.principal }).then((ask) => this.#runInLoop(loopCtx, ask)).then((answer) => takeAnswer(decided, answer)),
    };
    const verdict = await this.#chain.evaluateRequest(ctx, loop);
    if (ctx.charge) this.#charges.set(view.id, ctx.charge);
    return takeReply(loopCtx, await cross(replyOf(ctx, verdict)));
  }

  /** Loop side: the stage the decider asked for, on the loop's copy of the request; its answer crosses back. */
  async #runInLoop(ctx: RequestContext, ask: LoopAsk): Promise<LoopAnswer> {
    ctx.principal = ask.principal;
    const before = ctx.notes.length;
    const verdict = await this.#chain.requestStage(ask.stage).evaluate(ctx);
    return cross(answerOf(ctx, verdict, before));
  }

  settle(loopCtx: RequestContext, outcome: Outcome, now: number): Settled | null {
    const charge = this.#charges.get(loopCtx.id);
    if (!charge) return null;
    this.#charges.delete(loopCtx.id);
    return settleCharge(this.#budgets.ledger, this.#budgets.attribution, charge, structuredClone(outcome), now);
  }
}

export function decisionSeam(kind: SeamKind, chain: Chain, budgets: Budgets): DecisionSeam {
  return kind === 'copied' ? new CopiedSeam(chain, budgets) : new DirectSeam(chain, budgets);
}
