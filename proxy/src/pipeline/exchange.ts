import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { RequestContext } from '../chain/context.js';
import type { Verdict } from '../core/verdict.js';
import type { RpcId } from '../core/call-view.js';
import type { ProviderAdapter, RouteMatch } from '../providers/adapter.js';
import type { Settled } from '../budget/settle.js';
import type { ReportedUsage } from '../core/usage.js';
import type { Response } from './reply.js';

export type Request = IncomingMessage | Http2ServerRequest;

export function nowMs(): number {
  return performance.now();
}

/**
 * Cancels the upstream request when the agent goes away or a stream is cut. An exchange
 * calls upstream once, so there is one slot for the call's abort, not a listener list: an
 * AbortController or an EventEmitter per request cost several times more.
 */
export class UpstreamCancel {
  #cancelled = false;
  #onCancel: (() => void) | null = null;

  get cancelled(): boolean {
    return this.#cancelled;
  }

  /** What to run on cancel while the upstream call is under way; a second call replaces the first's. */
  watch(onCancel: () => void): void {
    this.#onCancel = onCancel;
  }

  unwatch(onCancel: () => void): void {
    if (this.#onCancel === onCancel) this.#onCancel = null;
  }

  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    const onCancel = this.#onCancel;
    this.#onCancel = null;
    onCancel?.();
  }
}

/**
 * Phase 1, the request decision: the route, the chain's view of the request and what the chain
 * decided. Written by the proxy's decide step, before anything leaves for the provider; read by
 * every phase after it.
 */
export class DecisionPhase {
  match: RouteMatch | null = null;
  ctx: RequestContext | null = null;
  verdict: Verdict | null = null;
}

/** Phase 2, transport: whether the provider was called and answered, and what Altrace asked of it. */
export class TransportPhase {
  called = false;
  ok = false;
  /** Altrace asked for stream usage the client did not: that event is not delivered. */
  usageRequested = false;
}

/** Phase 3, the response: what reached the agent, and what the provider reported on the way. */
export class ResponsePhase {
  status = 0;
  /** The refusal the agent received, whichever phase gave it (the chain's own, a cut stream, a failed upstream). */
  verdict: Verdict | null = null;
  fragments = 0;
  /** The whole answer was received from the provider. */
  completed = false;
  usage: ReportedUsage | null = null;
  /** Model text received, kept only for a charged request that may need counting; never logged. */
  outputText = '';
  /** For a stream: the proxy's added time when the response headers were written. */
  overheadAtHeaders: number | null = null;
  /** JSON-RPC ids whose response this stream has delivered (MCP): a cut does not answer them again. */
  answered: RpcId[] | null = null;
}

/**
 * One request/response as it passes through the proxy, phase by phase — decision, transport,
 * response, settlement — with the clock that separates the time Altrace adds from the time spent
 * waiting on the provider. Each phase writes its own record and reads those before it; the two
 * events that can arrive in any phase (the agent leaving, a kill switch) are fields of their own.
 */
export class Exchange {
  readonly start = nowMs();
  #upstreamMs = 0;
  #upstreamSince = 0;
  readonly upstream = new UpstreamCancel();
  /** The format refusals are written in: the route's provider once routed, the fallback before. */
  adapter: ProviderAdapter;
  readonly decision = new DecisionPhase();
  readonly transport = new TransportPhase();
  readonly response = new ResponsePhase();
  /** Phase 4: what the charge settled at, once settled (exactly once, whichever path ended the exchange). */
  settled: Settled | null = null;
  /** Settlement was asked of a decider that answers later: it is not asked twice. */
  settling = false;
  /** Any phase: the agent closed its connection. */
  clientGone = false;
  /** Any phase: a kill switch covering this request's principal was engaged while it was in flight. */
  killedBy: Verdict | null = null;

  constructor(
    readonly id: string,
    readonly req: Request,
    readonly res: Response,
    fallbackAdapter: ProviderAdapter,
  ) {
    this.adapter = fallbackAdapter;
  }

  upstreamBegins(): void {
    this.#upstreamSince = nowMs();
  }

  upstreamEnds(): void {
    if (this.#upstreamSince) this.#upstreamMs += nowMs() - this.#upstreamSince;
    this.#upstreamSince = 0;
  }

  get upstreamMs(): number {
    return this.#upstreamMs;
  }

  /** Wall time so far, less the time spent waiting on upstream. */
  overheadMs(): number {
    return Math.max(0, nowMs() - this.start - this.#upstreamMs);
  }
}
