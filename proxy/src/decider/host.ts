// The decider's end of the seam: answers the loops' ports with the one chain and the one copy
// of the state (docs/scaling.md).
import type { MessagePort } from 'node:worker_threads';
import type { Charge } from '../budget/charge.js';
import { bookSettled } from '../budget/settle.js';
import { stageFailed, type Chain, type LoopStages } from '../chain/chain.js';
import type { RequestContext } from '../chain/context.js';
import { block, isStop, type Verdict } from '../core/verdict.js';
import type { Credential, CredentialSource } from '../upstream/credential.js';
import type { AuthFailures } from '../identity/auth-failures.js';
import type { WorkloadRef } from '../identity/pod.js';
import { attribute } from '../pipeline/attribution.js';
import type { DecisionRecord } from '../pipeline/decision-record.js';
import { HostedInspection } from './inspection.js';
import { onBatches, Outbox } from './outbox.js';
import type { DecisionView, LoopAnswer, ToDecider, ToLoop } from './messages.js';
import type { Budgets } from './seam.js';
import { deciderContext, replyOf, takeAnswer } from './view.js';

/** One loop's port and what the decider holds for its requests. */
class LoopLink {
  /** Requests waiting on the loop: for a loop stage's answer, or for the body's text. */
  readonly answers = new Map<string, (a: LoopAnswer) => void>();
  readonly bodies = new Map<string, (text: string | null) => void>();
  /** Charges of requests still under way, with their reservations. */
  readonly charges = new Map<string, Charge>();
  /** Requests decided and still under way: their responses' stages read them. */
  readonly contexts = new Map<string, RequestContext>();
  readonly inspections = new Map<string, HostedInspection>();
  readonly #outbox: Outbox<ToLoop>;

  constructor(port: MessagePort) {
    this.#outbox = new Outbox(port);
  }

  send(m: ToLoop): void {
    this.#outbox.send(m);
  }
}

/** What the main loop's proxy does around the chain, done here for the requests of the other loops. */
export interface DeciderOptions {
  /** Who a client is by its address (a pod by its IP): a keyless request is governed as that workload. */
  peerWorkload?: (address: string) => WorkloadRef | null;
  /** Unknown virtual keys per source address: a source over the limit is refused before its key is looked at. */
  authFailures?: AuthFailures;
  /** Counts a failed key (`proxy`) or a refusal of a throttled source (`proxy_throttled`). */
  onAuthFailure?: (port: 'proxy' | 'proxy_throttled') => void;
  /** The agent's clock: charges settle in the budget windows it says, whatever a loop's clock says. */
  now?: () => number;
  /** The credential lane: an allowed call's credential goes with its verdict. */
  credentials?: CredentialSource;
  /** A loop's audit records, as its exchanges end. */
  onRecord?: (record: DecisionRecord) => void;
}

export class DeciderHost {
  readonly #chain: Chain;
  readonly #budgets: Budgets;
  readonly #options: DeciderOptions;
  readonly #links = new Set<LoopLink>();

  constructor(chain: Chain, budgets: Budgets, options: DeciderOptions = {}) {
    this.#chain = chain;
    this.#budgets = budgets;
    this.#options = options;
  }

  /** Loops served now. */
  get loops(): number {
    return this.#links.size;
  }

  /**
   * Serves one loop's port until it closes. A loop that goes (its thread died) leaves requests
   * it never settled: their reservations are settled at what they reserved, so a budget is never
   * freed by a crash.
   */
  serve(port: MessagePort): void {
    const link = new LoopLink(port);
    this.#links.add(link);
    onBatches<ToDecider>(port, (m) => this.#receive(link, m));
    port.once('close', () => this.#release(link));
  }

  #receive(link: LoopLink, m: ToDecider): void {
    switch (m.t) {
      case 'decide':
        return this.#decide(link, deciderContext(m.view, { bytes: m.view.ingress.bodyBytes, text: () => this.#bodyOf(link, m.view.id) }), m.view);
      case 'answer':
        return this.#take(link.answers, m.answer.request)?.(m.answer);
      case 'body':
        return this.#take(link.bodies, m.request)?.(m.text);
      case 'inspect':
      case 'finish':
        return this.#inspect(link, m);
      case 'done':
        return this.#end(link, m.request, m.delivered);
      case 'settle': {
        // What the response's stages record goes in before the charge is booked: both before the next call can come.
        this.#end(link, m.settle.request, m.delivered);
        const charge = this.#take(link.charges, m.settle.request);
        if (charge) bookSettled(this.#budgets.ledger, this.#budgets.attribution, charge, m.settle.booking, m.settle.settled, this.#options.now?.() ?? m.settle.now);
        return;
      }
      case 'record':
        return this.#options.onRecord?.(m.record);
    }
  }

  #inspect(link: LoopLink, m: Extract<ToDecider, { t: 'inspect' | 'finish' }>): void {
    if (m.open) {
      const ctx = link.contexts.get(m.request);
      link.inspections.set(m.request, new HostedInspection(m.request, ctx ?? null, ctx ? this.#chain.openResponse({ request: ctx, ...m.open }) : null));
    }
    const hosted = link.inspections.get(m.request);
    if (!hosted) {
      // Opened for a request the decider does not hold: nothing may pass unseen (fail closed).
      const verdict = stageFailed('decider', `no decision held for request ${m.request}`);
      return link.send({ t: 'inspected', answer: { request: m.request, finding: { index: 0, seq: 0, verdict }, heldFrom: null, none: false, marks: [], notes: [], content: null } });
    }
    const answer = m.t === 'inspect' ? hosted.inspect(m.fragments, m.last) : hosted.finish();
    if (answer instanceof Promise) void answer.then((a) => link.send({ t: 'inspected', answer: a }));
    else link.send({ t: 'inspected', answer });
  }

  /** The exchange is over: its response's stages are closed (told whether it reached the agent whole), and the request is forgotten. */
  #end(link: LoopLink, request: string, delivered: boolean): void {
    link.inspections.get(request)?.close(delivered);
    link.inspections.delete(request);
    link.contexts.delete(request);
  }

  #take<T>(map: Map<string, T>, request: string): T | undefined {
    const v = map.get(request);
    map.delete(request);
    return v;
  }

  #decide(link: LoopLink, ctx: RequestContext, view: DecisionView): void {
    const { source, lead } = view;
    const { peerWorkload, authFailures, onAuthFailure } = this.#options;
    if (peerWorkload && ctx.pod === null && ctx.principal === null) {
      const w = peerWorkload(source);
      if (w) attribute(ctx, w);
    }
    const loop: LoopStages = {
      evaluate: (from, to, decided) =>
        view.ahead?.from === from && view.ahead.to === to
          ? takeAnswer(decided, view.ahead.answer)
          : new Promise<LoopAnswer>((resolve) => {
              link.answers.set(ctx.id, resolve);
              link.send({ t: 'ask', ask: { request: ctx.id, from, to, principal: decided.principal } });
            }).then((answer) => takeAnswer(decided, answer)),
    };
    const done = (verdict: Verdict): void => {
      if (verdict.reason === 'ALT_KEY_UNKNOWN' && authFailures) {
        authFailures.fail(source);
        onAuthFailure?.('proxy');
      }
      // A stage that timed out waiting on the loop leaves its wait behind: nothing answers it now.
      link.answers.delete(ctx.id);
      link.bodies.delete(ctx.id);
      link.contexts.set(ctx.id, ctx);
      if (ctx.charge) {
        // The loop went while this was decided: the reservation is settled as the others were.
        if (!this.#links.has(link)) this.#settleReserved(ctx.charge);
        else link.charges.set(ctx.id, ctx.charge);
      }
      const upstream = ctx.call?.upstream;
      const lend = this.#options.credentials && upstream && !isStop(verdict) ? this.#options.credentials.get(upstream, ctx.principal?.team) : null;
      const reply = (credential: Credential | null): void => {
        const lent = upstream && lend !== null ? { upstream, credential, problem: this.#options.credentials!.problem?.(upstream) ?? null } : null;
        link.send({ t: 'reply', reply: replyOf(ctx, verdict, lent) });
      };
      if (lend instanceof Promise) void lend.then(reply, () => reply(null));
      else reply(lend);
    };
    const wait = authFailures?.watching ? authFailures.retryAfterMs(source) : 0;
    if (wait > 0) {
      onAuthFailure?.('proxy_throttled');
      return done({ ...block('key-identity', 'ALT_AUTH_THROTTLED', 'source over the failed-key limit'), retryAfterMs: wait });
    }
    // The loop ran the stages the chain starts with: one of them stopped the request, or the chain goes on after them.
    if (lead.verdict) return done(lead.verdict);
    const out = this.#chain.evaluateRequest(ctx, loop, lead.to);
    if (out instanceof Promise) out.then(done, (err: unknown) => done(stageFailed('decider', err)));
    else done(out);
  }

  #bodyOf(link: LoopLink, request: string): Promise<string> {
    return new Promise<string | null>((resolve) => {
      link.bodies.set(request, resolve);
      link.send({ t: 'body', ask: { request } });
    }).then((text) => text ?? Promise.reject(new Error(`the loop no longer holds request ${request}`)));
  }

  #release(link: LoopLink): void {
    this.#links.delete(link);
    for (const charge of link.charges.values()) this.#settleReserved(charge);
    link.charges.clear();
    for (const hosted of link.inspections.values()) hosted.close(false);
    link.inspections.clear();
    link.contexts.clear();
  }

  #settleReserved(charge: Charge): void {
    if (charge.reservation) this.#budgets.ledger.settle(charge.reservation, charge.reservation.usd);
  }
}
