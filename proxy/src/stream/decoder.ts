import type { ReportedUsage } from '../providers/usage.js';

/** One event of an upstream stream: the bytes to deliver and the text to inspect. */
export interface StreamEvent {
  raw: string | Uint8Array;
  text: string;
  /** Token usage this event reports, when it reports any. */
  usage?: ReportedUsage | null;
}

export interface StreamDecoder {
  /** Decodes what this chunk completes; an incomplete tail waits for the next chunk. */
  push(chunk: Uint8Array): StreamEvent[];
  /** Called when upstream ends; anything left over is an incomplete event. */
  end(): StreamEvent[];
}

export class StreamDecodeError extends Error {
  readonly code = 'ALT_UPSTREAM_BAD_RESPONSE';
}
