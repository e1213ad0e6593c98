// The messages that cross the decider seam, one file for both sides (piscina's src/types.ts).
// Every one is structured-cloneable: no functions, no streams, no sockets, no counters held
// by reference. docs/scaling.md says what runs on which side and why.
import type { IncomingHttpHeaders } from 'node:http';
import type { Charge } from '../budget/charge.js';
import type { Booking, Settled } from '../budget/settle.js';
import type { ContentFacts, LentCredential } from '../chain/context.js';
import type { FragmentFinding } from '../chain/stage.js';
import type { CallView } from '../core/call-view.js';
import type { Fragment } from '../core/fragment.js';
import type { IngressFacts } from '../core/ingress-facts.js';
import type { Verdict } from '../core/verdict.js';
import type { Principal, VirtualKey } from '../identity/keys.js';
import type { PodRef } from '../identity/pod.js';
import type { DecisionRecord } from '../pipeline/decision-record.js';

/**
 * Loop → decider, once per request: what the decider's stages read. Never the body's bytes
 * (they stay in the loop, which answers for them), never a credential: the virtual key
 * travels as its hash, and the headers that carry keys are left out.
 */
export interface DecisionView {
  id: string;
  /** The client's address: the decider throttles failed keys by it, and knows pods by it. */
  source: string;
  headers: IncomingHttpHeaders;
  ingress: IngressFacts;
  presented: { virtualHash: string | null; realIn: string | null };
  call: CallView | null;
  pod: PodRef | null;
  /** Set by the loop before the chain for a keyless request of a known workload (attribution). */
  principal: Principal | null;
  /**
   * The loop stages the chain starts with (ingress limits, real keys), run by the loop before it
   * asked: the decider goes on from `to`, or answers with `verdict` when one stopped the request.
   */
  lead: { to: number; verdict: Verdict | null };
  /** Warnings those stages added. */
  notes: Verdict[];
  /** Loop stages further on that the loop ran before asking (their verdict does not depend on the principal): taken at their place. */
  ahead: { from: number; to: number; answer: LoopAnswer } | null;
}

/** Decider → loop: run the loop stages at positions [from, to) on your copy of the request. */
export interface LoopAsk {
  request: string;
  from: number;
  to: number;
  /** What the decider has established that a loop stage reads (content rules per principal). */
  principal: Principal | null;
}

/** Loop → decider: the loop stage's verdict and what it recorded. */
export interface LoopAnswer {
  request: string;
  verdict: Verdict | null;
  /** Warnings the stage added, in order. */
  notes: Verdict[];
  content: ContentFacts | null;
  /** The size of the body the provider will now receive (a rewrite changes it). */
  sentBytes: number;
  /** The canary the stage planted in the system prompt: the response stages look for it. */
  canary: string | null;
}

/** Decider → loop: ask for the text of the body the provider will receive (a budget near its limit counts it). */
export interface BodyAsk {
  request: string;
}

/**
 * Decider → loop, once per request: the verdict and what the decider's stages established that
 * the loop's later phases read (the credential lane's team, the response stages, the record).
 */
export interface DecisionReply {
  request: string;
  verdict: Verdict;
  notes: Verdict[];
  key: VirtualKey | null;
  principal: Principal | null;
  /** The pod the decider knew the client as (by its address), for the record. */
  pod: PodRef | null;
  /** The contracts that governed the request, as name@version: they stay with the decider, whose stages read them. */
  contracts: readonly string[];
  content: ContentFacts | null;
  /** The charge as the loop reads it: its reservation stays with the decider, which settles it. */
  charge: Omit<Charge, 'reservation'> | null;
  /** For an allowed call, the credential of its upstream, lent with the verdict: no second ask. */
  credential: LentCredential | null;
}

/**
 * What a charge cost, worked out by the loop that relayed the response; the decider that holds
 * its reservation books it. One way: the loop has its figures and does not wait.
 */
export interface SettleMessage {
  request: string;
  settled: Settled;
  booking: Booking;
  now: number;
}

/** How the response is delivered, as the response stages are opened for it. */
export interface ResponseShape {
  streaming: boolean;
  maskable?: boolean;
  errorBody?: boolean;
}

/**
 * A change the decider's response stages made to a fragment the loop holds (by position): a
 * masked text to deliver instead (null: the mask was lifted), or a whole body rewritten.
 */
export interface FragmentMark {
  seq: number;
  redaction?: Fragment['redaction'] | null;
  body?: Fragment['body'];
}

/** Decider → loop: what the response stages found in a batch, or at the end. */
export interface InspectAnswer {
  request: string;
  finding: FragmentFinding | null;
  /** The first position a stage still holds back (the relay waits to write it). */
  heldFrom: number | null;
  /** No response stage applies to this response: the loop stops asking. */
  none: boolean;
  marks: FragmentMark[];
  /** For a `last` batch with nothing to cut: what the end of the response decided (`finish`). */
  finished?: FragmentFinding | null;
  /** Warnings the stages added to the request since the last answer, and its labels now (the record and headers carry them). */
  notes: Verdict[];
  content: ContentFacts | null;
}

/** Loop → decider, on the port (in batches: outbox.ts). */
export type ToDecider =
  | { t: 'decide'; view: DecisionView }
  | { t: 'answer'; answer: LoopAnswer }
  /** Null: the loop no longer holds the request (the stage asking fails closed). */
  | { t: 'body'; request: string; text: string | null }
  /** The exchange is over and its charge is booked; `delivered`: its response reached the agent whole (the response stages' close). */
  | { t: 'settle'; settle: SettleMessage; delivered: boolean }
  /**
   * A batch of the response (`open` with the first: how it is delivered); `last`: none follows,
   * and the decider also decides on what its stages still hold when the batch leaves nothing to cut.
   */
  | { t: 'inspect'; request: string; fragments: Fragment[]; last: boolean; open?: ResponseShape }
  | { t: 'finish'; request: string; open?: ResponseShape }
  /** The exchange is over (no charge to settle): the response stages close, the decider forgets the request. */
  | { t: 'done'; request: string; delivered: boolean }
  /** The exchange's audit record, after its end: it crosses with it, in the same batch. */
  | { t: 'record'; record: DecisionRecord };

/** Decider → loop, on the port (in batches). */
export type ToLoop =
  | { t: 'ask'; ask: LoopAsk }
  | { t: 'body'; ask: BodyAsk }
  | { t: 'reply'; reply: DecisionReply }
  | { t: 'inspected'; answer: InspectAnswer };
