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
 * One request/response as it passes through the proxy, with the clock that separates the
 * time Altrace adds from the time spent waiting on the provider.
 */
export class Exchange {
  readonly start = nowMs();
  #upstreamMs = 0;
  #upstreamSince = 0;
  readonly upstream = new UpstreamCancel();
  ctx: RequestContext | null = null;
  match: RouteMatch | null = null;
  adapter: ProviderAdapter;
  requestVerdict: Verdict | null = null;
  responseVerdict: Verdict | null = null;
  status = 0;
  fragments = 0;
  clientGone = false;
  /** What settlement needs: whether the provider was called and answered, and what it reported. */
  upstreamCalled = false;
  upstreamOk = false;
  completed = false;
  usage: ReportedUsage | null = null;
  /** Model text received, kept only for a charged request that may need counting; never logged. */
  outputText = '';
  /** Altrace asked for stream usage the client did not: that event is not delivered. */
  usageRequested = false;
  settled: Settled | null = null;
  /** For a stream: the proxy's added time when the response headers were written. */
  overheadAtHeaders: number | null = null;
  /** Set when a kill switch covering this request's principal was engaged while it was in flight. */
  killedBy: Verdict | null = null;
  /** JSON-RPC ids whose response this stream has delivered (MCP): a cut does not answer them again. */
  answered: RpcId[] | null = null;

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
