import type { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import { reasonInfo } from '../core/reasons.js';
import type { Verdict } from '../core/verdict.js';
import { altraceInfo, type ProviderAdapter, type RouteMatch } from '../providers/adapter.js';
import type { CallView, RpcId } from '../core/call-view.js';
import { retrySignal } from './retry-signal.js';

/** What the proxy uses of a response; HTTP/1.1 and HTTP/2 (compat) responses both fit. */
export interface Response extends EventEmitter {
  readonly headersSent: boolean;
  readonly destroyed: boolean;
  readonly writableFinished: boolean;
  readonly writableEnded: boolean;
  /** Set on HTTP/1.1 responses only. */
  readonly shouldKeepAlive?: boolean;
  writeHead(status: number, headers: OutgoingHttpHeaders): unknown;
  /** Sends the head now instead of with the first body bytes (HTTP/1.1). */
  flushHeaders?(): void;
  /** The callback runs once the chunk is handed to the connection (flushed to the kernel). */
  write(chunk: string | Uint8Array, flushed?: (err?: Error | null) => void): boolean;
  end(chunk?: string | Uint8Array): unknown;
  destroy(error?: Error): unknown;
}

export function blockMessage(v: Verdict, hint: string): string {
  return `Altrace blocked this request (${v.reason} at stage ${v.stage}). ${hint}`;
}

export function hintOf(v: Verdict): string {
  return v.hint ?? reasonInfo(v.reason).hint;
}

export function formatMs(ms: number): string {
  return ms.toFixed(3);
}

/** Answers a block in the provider's own error format, with the altrace object, the x-altrace-* and the retry headers. */
export function replyBlock(res: Response, adapter: ProviderAdapter, v: Verdict, requestId: string, overheadMs: () => number, closeConnection: boolean, call: CallView | null = null): number {
  const info = reasonInfo(v.reason);
  const hint = hintOf(v);
  const retry = retrySignal(v, adapter);
  const reply = adapter.errorReply(altraceInfo(v, requestId, hint), info.status, blockMessage(v, hint), info.errorClass, call, retry.advice);
  if (res.headersSent) return reply.status;
  const headers: Record<string, string> = {
    ...reply.headers,
    ...retry.headers,
    'content-length': String(Buffer.byteLength(reply.body)),
    'x-altrace-request-id': requestId,
    'x-altrace-reason': v.reason,
    'x-altrace-stage': v.stage,
    'x-altrace-overhead-ms': formatMs(overheadMs()),
  };
  // An unread oversized body must not be drained from a keep-alive connection.
  if (closeConnection && res.shouldKeepAlive !== undefined) headers.connection = 'close';
  res.writeHead(reply.status, headers);
  res.end(reply.body);
  return reply.status;
}

/** The in-stream error event that ends a stream already under way. */
export function streamErrorBytes(adapter: ProviderAdapter, match: RouteMatch, v: Verdict, requestId: string, deliveredAny: boolean, call: CallView | null = null, answered: readonly RpcId[] | null = null): string | Uint8Array {
  const info = reasonInfo(v.reason);
  const hint = hintOf(v);
  return adapter.streamError(altraceInfo(v, requestId, hint), info.status, blockMessage(v, hint), info.errorClass, match, deliveredAny, call, answered);
}
