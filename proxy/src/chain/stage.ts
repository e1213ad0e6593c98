import type { RequestContext, ResponseContext } from './context.js';
import type { Fragment } from '../core/fragment.js';
import type { Verdict } from '../core/verdict.js';

/** Bands in evaluation order: a stage's band fixes where it sits in the chain. */
export const BANDS = ['ingress', 'identity', 'kill', 'contract', 'mcp', 'content', 'budget', 'approval'] as const;
export type Band = (typeof BANDS)[number];

/**
 * Where a request stage runs once the data plane has several loops (docs/scaling.md): `loop`
 * stages read the request's bytes (its body, the text to scan) and no shared state, so the loop
 * that holds the request runs them; every other stage reads or writes state that must stay
 * exact across loops (keys, kills, budgets, runs) and runs in the one decider.
 */
export type Place = 'loop' | 'decider';

interface StageBase {
  readonly id: string;
  readonly band: Band;
  /** One line for `GET /api/v1/chain`: what the stage decides. */
  readonly summary: string;
}

/** Decides on the request before the provider is called. Null means "no objection". */
export interface RequestStage extends StageBase {
  readonly side: 'request';
  /**
   * The stage waits on people, not machines (approval gates), and bounds its own wait:
   * the chain's stage timeout does not apply to it.
   */
  readonly unbounded?: boolean;
  /** Absent: `decider`. */
  readonly place?: Place;
  /**
   * A loop stage whose verdict does not depend on what the decider establishes first (the
   * principal): the loop may run it before it asks the decider, which then takes the result at
   * the stage's place in the order instead of asking for it.
   */
  readonly ahead?: () => boolean;
  evaluate(ctx: RequestContext): Verdict | null | Promise<Verdict | null>;
}

export interface FragmentFinding {
  /** Index of the first fragment of the batch that must not be delivered. */
  index: number;
  /**
   * Position in the response (Fragment.seq) of the first fragment not to deliver, when it lies
   * in an earlier batch the inspector held back; takes precedence over `index`.
   */
  seq?: number;
  verdict: Verdict;
}

/** Inspects one response's fragments, batch after batch, in order. */
export interface FragmentInspector {
  inspect(fragments: readonly Fragment[]): FragmentFinding | null | Promise<FragmentFinding | null>;
  /**
   * Position of the first fragment the inspector cannot decide on yet (a tool call whose
   * arguments are still arriving): it and everything after it wait. Null when nothing waits.
   */
  heldFrom?(): number | null;
  /** Waits on people (approval gates) and bounds its own wait: the stage timeout does not apply. */
  readonly unbounded?: boolean;
  /** The response ended: decide on whatever is still held. */
  finish?(): FragmentFinding | null;
  /** The response is over; `delivered`: it reached the agent whole and uncut (false: cut, refused, or ended early). */
  close(delivered?: boolean): void;
}

/** Decides on every fragment of the response. Returns null when it has nothing to inspect. */
export interface ResponseStage extends StageBase {
  readonly side: 'response';
  open(ctx: ResponseContext): FragmentInspector | null;
}

export type Stage = RequestStage | ResponseStage;

export interface StageDescription {
  order: number;
  id: string;
  band: Band;
  side: 'request' | 'response';
  /** Response stages run in the decider, fed each batch by the loop that relays the response. */
  place: Place;
  summary: string;
}
