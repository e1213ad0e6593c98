// Where a request's decision is made: the seam between the loop that holds the request and
// the decider that holds the state (docs/scaling.md). One loop calls the chain in process;
// the copied seam sends every message across as the multi-loop data plane will.
import type { SpendAttribution } from '../budget/attribution.js';
import type { BudgetLedger } from '../budget/ledger.js';
import { settleCharge, type Outcome, type Settled } from '../budget/settle.js';
import { MessageChannel } from 'node:worker_threads';
import type { Chain, Inspection } from '../chain/chain.js';
import type { RequestContext } from '../chain/context.js';
import type { Verdict } from '../core/verdict.js';
import { DeciderHost } from './host.js';
import { PortSeam } from './port-seam.js';
import type { ResponseShape } from './messages.js';

export type SeamKind = 'direct' | 'copied';

export interface Budgets {
  ledger: BudgetLedger;
  attribution: SpendAttribution;
}

export interface DecisionSeam {
  /** Phase 1's verdict; afterwards `ctx` holds what the decision established (principal, contracts, charge, notes). */
  decide(ctx: RequestContext, source: string): Verdict | Promise<Verdict>;
  /** Phase 4: the request's charge settles where it was reserved. Null when it had none. */
  settle(ctx: RequestContext, outcome: Outcome, now: number): Settled | null | Promise<Settled | null>;
  /** Phase 3: the response stages for this response; null when none applies (known at once only in process). */
  openResponse(ctx: RequestContext, response: ResponseShape): Inspection | null;
  /** The exchange is over: whatever the decider keeps for it goes. */
  release?(ctx: RequestContext): void;
  close?(): void;
}

/** One loop: the chain runs in process on the request itself; nothing is copied, nothing waits. */
export class DirectSeam implements DecisionSeam {
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

  openResponse(ctx: RequestContext, response: ResponseShape): Inspection | null {
    return this.#chain.openResponse({ request: ctx, ...response });
  }
}

/**
 * Every decision crosses the seam as the multi-loop data plane sends it — the loop's end and the
 * decider's end of a MessageChannel, each message copied and delivered on a later turn of the
 * event loop, the loop's and the decider's copies of the request apart — in one process, so that
 * the whole suite can check that it decides exactly as one loop does. For tests and diagnosis.
 */
export class CopiedSeam implements DecisionSeam {
  readonly #loop: PortSeam;
  readonly #channel = new MessageChannel();

  constructor(chain: Chain, budgets: Budgets) {
    new DeciderHost(chain, budgets).serve(this.#channel.port2);
    // The loop's end keeps the process alive while a request waits on it (PortSeam); the decider's end never.
    this.#loop = new PortSeam(chain, this.#channel.port1);
    this.#channel.port2.unref();
  }

  decide(ctx: RequestContext, source: string): Promise<Verdict> {
    return this.#loop.decide(ctx, source);
  }

  settle(ctx: RequestContext, outcome: Outcome, now: number): Settled | null {
    return this.#loop.settle(ctx, outcome, now);
  }

  openResponse(ctx: RequestContext, response: ResponseShape): Inspection {
    return this.#loop.openResponse(ctx, response);
  }

  release(ctx: RequestContext): void {
    this.#loop.release(ctx);
  }

  close(): void {
    this.#channel.port1.close();
  }
}

export function decisionSeam(kind: SeamKind, chain: Chain, budgets: Budgets): DecisionSeam {
  return kind === 'copied' ? new CopiedSeam(chain, budgets) : new DirectSeam(chain, budgets);
}
