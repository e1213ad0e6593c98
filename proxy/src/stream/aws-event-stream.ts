import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { ReportedUsage } from '../core/usage.js';
import { StreamDecodeError, StreamEndedEarly, type StreamDecoder, type StreamEvent, type ToolDeltas } from './decoder.js';

export const codec = new EventStreamCodec(toUtf8, fromUtf8);

export interface AwsEvent {
  messageType: string;
  eventType: string;
  payload: Uint8Array;
}

export type AwsEventText = (e: AwsEvent) => string;
/** The event's payload with its model text replaced, or null when that text is not one field. */
export type AwsEventRetext = (e: AwsEvent, text: string) => Uint8Array | null;
export type AwsEventUsage = (e: AwsEvent) => ReportedUsage | null;
/** True for the event that makes the stream complete (the final event, or an exception); called until it says so. */
export type AwsEventTerminal = (e: AwsEvent) => boolean;

const MAX_FRAME_BYTES = 16 * 1024 * 1024;

function headerString(headers: Record<string, { type: string; value: unknown }>, name: string): string {
  const h = headers[name];
  return h && h.type === 'string' ? String(h.value) : '';
}

function eventOf(message: { headers: Record<string, { type: string; value: unknown }>; body: Uint8Array }): AwsEvent {
  return {
    messageType: headerString(message.headers, ':message-type'),
    eventType: headerString(message.headers, ':event-type') || headerString(message.headers, ':exception-type'),
    payload: message.body,
  };
}

/**
 * AWS event-stream (application/vnd.amazon.eventstream). Frames are split on their
 * length prelude and decoded (CRCs checked) by the Smithy codec; the original frame
 * bytes are what is delivered.
 */
export class AwsEventStreamDecoder implements StreamDecoder {
  #pending: Buffer = Buffer.alloc(0);
  readonly #text: AwsEventText;
  readonly #usage: AwsEventUsage | null;
  readonly #tools: ToolDeltas<AwsEvent> | null;
  readonly #retext: AwsEventRetext | null;
  readonly #terminal: AwsEventTerminal | null;
  #complete: boolean;

  constructor(text: AwsEventText, usage: AwsEventUsage | null = null, tools: ToolDeltas<AwsEvent> | null = null, retext: AwsEventRetext | null = null, terminal: AwsEventTerminal | null = null) {
    this.#text = text;
    this.#usage = usage;
    this.#tools = tools;
    this.#retext = retext;
    this.#terminal = terminal;
    this.#complete = terminal === null;
  }

  get canRetext(): boolean {
    return this.#retext !== null;
  }

  // Only on redaction: the frame is decoded again and re-encoded with the new payload and its own headers (new CRCs).
  retext(e: StreamEvent, text: string): Uint8Array | null {
    if (!this.#retext || typeof e.raw === 'string') return null;
    const message = codec.decode(e.raw);
    const payload = this.#retext(eventOf(message), text);
    return payload === null ? null : codec.encode({ headers: message.headers, body: payload });
  }

  push(chunk: Uint8Array): StreamEvent[] {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk);
    const out: StreamEvent[] = [];
    while (this.#pending.length >= 4) {
      const total = this.#pending.readUInt32BE(0);
      if (total < 16 || total > MAX_FRAME_BYTES) throw new StreamDecodeError(`upstream event-stream frame of ${total} bytes`);
      if (this.#pending.length < total) break;
      const frame = this.#pending.subarray(0, total);
      this.#pending = this.#pending.subarray(total);
      let message;
      try {
        message = codec.decode(frame);
      } catch (err) {
        throw new StreamDecodeError(`upstream event-stream frame: ${(err as Error).message}`);
      }
      const event = eventOf(message);
      if (!this.#complete) this.#complete = this.#terminal!(event);
      out.push({
        raw: Uint8Array.prototype.slice.call(frame),
        text: this.#text(event),
        usage: this.#usage ? this.#usage(event) : null,
        tools: this.#tools ? this.#tools(event) : null,
      });
    }
    return out;
  }

  end(): StreamEvent[] {
    if (this.#pending.length > 0) throw new StreamEndedEarly('upstream event-stream ended inside a frame');
    if (!this.#complete) throw new StreamEndedEarly('upstream event-stream ended before its final event');
    return [];
  }
}

export function encodeAwsEvent(messageType: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  const typeHeader = messageType === 'event' ? ':event-type' : ':exception-type';
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: messageType },
      [typeHeader]: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}
