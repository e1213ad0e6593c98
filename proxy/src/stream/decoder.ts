import type { RpcOutcome, ToolDelta } from '../core/fragment.js';
import type { Verdict } from '../core/verdict.js';
import type { ReportedUsage } from '../core/usage.js';

/** Reads the tool-call pieces of one decoded event, if it carries any. */
export type ToolDeltas<E> = (event: E) => ToolDelta[] | null;

/** One event of an upstream stream: the bytes to deliver and the text to inspect. */
export interface StreamEvent {
  raw: string | Uint8Array;
  text: string;
  /** Tool-call pieces the event carries. */
  tools?: ToolDelta[] | null;
  /** Position in the response, set by the relay. */
  seq?: number;
  /** When the bytes that completed it arrived from upstream (performance.now()), set by the relay: a held event's stay counts from then. */
  arrivedAt?: number;
  /** Token usage this event reports, when it reports any. */
  usage?: ReportedUsage | null;
  /** JSON-RPC responses the event carries (MCP). */
  outcomes?: RpcOutcome[] | null;
  /** Set by a redacting stage while the event is held back: deliver this text instead, or cut with the verdict. */
  redaction?: { text: string; verdict: Verdict } | undefined;
}

export interface StreamDecoder {
  /** Decodes what this chunk completes; an incomplete tail waits for the next chunk. */
  push(chunk: Uint8Array): StreamEvent[];
  /** Called when upstream ends; anything left over is an incomplete event. */
  end(): StreamEvent[];
  /**
   * The event re-serialised with `text` as its model text (redaction), or null when its text
   * is not one field the format lets us replace (then the stream is cut instead).
   */
  retext?(event: StreamEvent, text: string): string | Uint8Array | null;
  /** True when this stream's events can be re-serialised with masked text at all. */
  readonly canRetext?: boolean;
}

export class StreamDecodeError extends Error {
  readonly code = 'ALT_UPSTREAM_BAD_RESPONSE';
}

/**
 * Upstream ended a stream before its provider's final event (`[DONE]`, `message_stop`, ...) or
 * inside an event: delivered as a normal end, the agent's SDK would return partial text as whole.
 */
export class StreamEndedEarly extends Error {
  readonly code = 'ALT_UPSTREAM_ENDED_EARLY';
}
