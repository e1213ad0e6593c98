import type { Verdict } from '../core/verdict.js';
import type { StreamDecoder } from '../stream/decoder.js';
import type { RpcOutcome, ToolDelta } from '../core/fragment.js';
import type { ReportedUsage } from '../core/usage.js';
import type { CallView, Operation, ProviderKind, RpcId } from '../core/call-view.js';

export interface RouteMatch {
  adapter: ProviderAdapter;
  operation: Operation;
  /** Path parameters: model, deployment, modelId, action. */
  params: Record<string, string>;
  url: URL;
}

export interface ErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a refusal tells the agent's SDK about sending the request again (proxy/src/pipeline/retry-signal.ts). */
export interface RetryAdvice {
  /** False: the SDK must not send it again; an adapter whose SDK ignores headers says so in its own terms. */
  readonly retryable: boolean;
  /** When the request can succeed, in ms from now, if known. */
  readonly afterMs: number | null;
}

/** The `altrace` object inside every error body. */
export interface AltraceErrorInfo {
  request_id: string;
  stage: string;
  reason: string;
  hint: string;
}

export interface UpstreamRequest {
  /** The named upstream (credential lane entry) that serves the call. */
  upstream: string;
  /** Path and query relative to the upstream's base URL. */
  path: string;
  /** The body to send; null to send the client's bytes unchanged. */
  body: Uint8Array | null;
  /**
   * Altrace asked the provider for stream usage the client did not ask for: the usage-only
   * event is read for settlement and not delivered.
   */
  usageRequested?: boolean;
}

/** One provider's wire format: request parsing, upstream routing, response decoding, errors. */
export interface ProviderAdapter {
  readonly kind: ProviderKind;
  /** The native request as a CallView, or a message naming the field that is wrong. */
  parse(match: RouteMatch, body: unknown): CallView | string;
  upstreamRequest(match: RouteMatch, call: CallView, body: unknown): UpstreamRequest;
  /** Decoder for a streamed response of this route (`call`: the request it answers, MCP knows its requests by it). */
  decoder(match: RouteMatch, call?: CallView | null): StreamDecoder;
  /** Model-produced text of a whole (non-streamed) response body. */
  responseText(match: RouteMatch, body: unknown): string;
  /** Tool calls the model makes in a whole (non-streamed) response body, each complete. */
  responseTools(match: RouteMatch, body: unknown): ToolDelta[];
  /** Token usage a whole response body reports. */
  responseUsage(match: RouteMatch, body: unknown): ReportedUsage | null;
  /** JSON-RPC responses a whole body carries (MCP). */
  responseOutcomes?(match: RouteMatch, body: unknown): RpcOutcome[] | null;
  /** `call` is the request's view when it was parsed (MCP answers the request's JSON-RPC id). */
  errorReply(info: AltraceErrorInfo, status: number, message: string, errorClass: string, call: CallView | null, retry: RetryAdvice): ErrorReply;
  /**
   * The longest retry-after the provider's SDK waits out before its retry; a refusal that can
   * succeed only later than this tells the SDK not to retry. Absent: 60 s (the OpenAI SDK's bound).
   */
  readonly longestHonouredWaitMs?: number;
  /**
   * The provider's own in-stream error event, ending a stream already under way. `answered`:
   * the JSON-RPC ids the stream has already delivered a response for (MCP), not to be answered twice.
   */
  streamError(info: AltraceErrorInfo, status: number, message: string, errorClass: string, match: RouteMatch, deliveredAny: boolean, call?: CallView | null, answered?: readonly RpcId[] | null): string | Uint8Array;
  /** The content type of a streamed response when it differs from upstream's. */
  responseContentType?(match: RouteMatch): string;
}

export function altraceInfo(v: Verdict, requestId: string, hint: string): AltraceErrorInfo {
  return { request_id: requestId, stage: v.stage, reason: v.reason, hint };
}

/** Shape checks for parse(): each returns a message naming the field, or null. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
