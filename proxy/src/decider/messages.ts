// The messages that cross the decider seam, one file for both sides (piscina's src/types.ts).
// Every one is structured-cloneable: no functions, no streams, no sockets, no counters held
// by reference. docs/scaling.md says what runs on which side and why.
import type { IncomingHttpHeaders } from 'node:http';
import type { Charge } from '../budget/charge.js';
import type { Outcome, Settled } from '../budget/settle.js';
import type { ContentFacts } from '../chain/context.js';
import type { Contract } from '../contracts/compile.js';
import type { Evidence } from '../contracts/evidence.js';
import type { CallView } from '../core/call-view.js';
import type { IngressFacts } from '../core/ingress-facts.js';
import type { Verdict } from '../core/verdict.js';
import type { VerifiedChain } from '../delegation/verify.js';
import type { Principal, VirtualKey } from '../identity/keys.js';
import type { PodRef } from '../identity/pod.js';

/**
 * Loop → decider, once per request: what the decider's stages read. Never the body's bytes
 * (they stay in the loop, which answers for them), never a credential: the virtual key
 * travels as its hash, and the headers that carry keys are left out.
 */
export interface DecisionView {
  id: string;
  headers: IncomingHttpHeaders;
  ingress: IngressFacts;
  presented: { virtualHash: string | null; realIn: string | null };
  call: CallView | null;
  pod: PodRef | null;
  /** Set by the loop before the chain for a keyless request of a known workload (attribution). */
  principal: Principal | null;
}

/** Decider → loop: run the loop stage at this position on your copy of the request. */
export interface LoopAsk {
  request: string;
  stage: number;
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
  contracts: readonly Contract[] | null;
  delegation: { chain: VerifiedChain; contract: Contract } | null;
  evidence: readonly Evidence[] | null;
  content: ContentFacts | null;
  /** The charge as the loop reads it: its reservation stays with the decider, which settles it. */
  charge: Omit<Charge, 'reservation'> | null;
}

/** How a charge ended, settled by the decider that holds its reservation. */
export interface SettleMessage {
  request: string;
  outcome: Outcome;
  now: number;
}

/** Loop → decider, on the port. */
export type ToDecider =
  | { t: 'decide'; view: DecisionView }
  | { t: 'answer'; answer: LoopAnswer }
  | { t: 'body'; request: string; text: string }
  | { t: 'settle'; settle: SettleMessage };

/** Decider → loop, on the port. */
export type ToLoop =
  | { t: 'ask'; ask: LoopAsk }
  | { t: 'body'; ask: BodyAsk }
  | { t: 'reply'; reply: DecisionReply }
  | { t: 'settled'; request: string; settled: Settled | null };
