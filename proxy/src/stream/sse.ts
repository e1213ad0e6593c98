import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { ReportedUsage } from '../core/usage.js';
import { jsonDeeperThan, MAX_UPSTREAM_JSON_DEPTH } from '../core/json-depth.js';
import { StreamDecodeError, StreamEndedEarly, type StreamDecoder, type StreamEvent } from './decoder.js';
import type { RpcOutcome, ToolDelta } from '../core/fragment.js';

/** Extracts the model-produced text of one SSE event (content deltas, tool arguments). */
export type SseText = (event: string | undefined, data: unknown) => string;
/** Reads the token usage an SSE event reports, if any. */
export type SseUsage = (data: unknown) => ReportedUsage | null;
/** Reads the tool-call pieces an SSE event carries, if any. */
export type SseTools = (event: string | undefined, data: unknown) => ToolDelta[] | null;
/** Reads the JSON-RPC responses an SSE event carries (MCP), if any. */
export type SseOutcomes = (data: unknown) => RpcOutcome[] | null;
/** The event's payload with its model text replaced (changed in place), or null when that text is not one field. */
export type SseRetext = (event: string | undefined, data: unknown, text: string) => unknown;
/**
 * True for the event that makes the stream complete (its provider's final event, or an error
 * event). Called for each event until it says so; `data` is SSE_DONE for OpenAI's `[DONE]`.
 */
export type SseTerminal = (event: string | undefined, data: unknown, decoded: StreamEvent, id: string | undefined) => boolean;

/** OpenAI's last event, which carries no JSON. */
export const SSE_DONE = '[DONE]';

/** A JSON payload with its model text replaced through `retext`, serialised again; null when it cannot be. */
export function retextJson(json: string, event: string | undefined, retext: SseRetext, text: string): string | null {
  let data: unknown;
  try {
    data = JSON.parse(json);
  } catch {
    return null;
  }
  const changed = retext(event, data, text);
  return changed === null || changed === undefined ? null : JSON.stringify(changed);
}

/** The fields of an event as formatSse wrote it. */
function parseFormatted(raw: string): { event: string | undefined; id: string | undefined; data: string } {
  let event: string | undefined;
  let id: string | undefined;
  const data: string[] = [];
  for (const line of raw.split('\n')) {
    if (line.startsWith('data: ')) data.push(line.slice(6));
    else if (line.startsWith('event: ')) event = line.slice(7);
    else if (line.startsWith('id: ')) id = line.slice(4);
  }
  return { event, id, data: data.join('\n') };
}

const MAX_EVENT_CHARS = 16 * 1024 * 1024;

export function formatSse(event: string | undefined, data: string, id?: string): string {
  let out = '';
  if (id !== undefined) out += `id: ${id}\n`;
  if (event !== undefined) out += `event: ${event}\n`;
  for (const line of data.split('\n')) out += `data: ${line}\n`;
  return out + '\n';
}

/** SSE decoding with eventsource-parser; each event is re-serialized as it is delivered. */
export class SseDecoder implements StreamDecoder {
  readonly #utf8 = new TextDecoder('utf-8');
  readonly #text: SseText;
  readonly #usage: SseUsage | null;
  readonly #tools: SseTools | null;
  readonly #outcomes: SseOutcomes | null;
  readonly #retext: SseRetext | null;
  readonly #terminal: SseTerminal | null;
  /** Without a terminal rule a stream is complete wherever it ends at an event boundary. */
  #complete: boolean;
  /** Set while end() closes the last event: an event completed then was cut off. */
  #ending = false;
  #cutOff = false;
  #out: StreamEvent[] = [];
  #failure: Error | null = null;
  readonly #parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent: (e) => this.#onEvent(e),
    onError: (err) => {
      this.#failure = new StreamDecodeError(`upstream SSE: ${err.message}`);
    },
  });

  constructor(text: SseText, usage: SseUsage | null = null, tools: SseTools | null = null, outcomes: SseOutcomes | null = null, retext: SseRetext | null = null, terminal: SseTerminal | null = null) {
    this.#text = text;
    this.#usage = usage;
    this.#tools = tools;
    this.#outcomes = outcomes;
    this.#retext = retext;
    this.#terminal = terminal;
    this.#complete = terminal === null;
  }

  get canRetext(): boolean {
    return this.#retext !== null;
  }

  // Only on redaction: the event is parsed again from what was formatted, nothing is kept per event.
  retext(e: StreamEvent, text: string): string | null {
    if (!this.#retext || typeof e.raw !== 'string') return null;
    const f = parseFormatted(e.raw);
    const data = retextJson(f.data, f.event, this.#retext, text);
    return data === null ? null : formatSse(f.event, data, f.id);
  }

  #onEvent(e: EventSourceMessage): void {
    if (this.#ending) {
      this.#cutOff = true;
      return;
    }
    let text = '';
    let usage: ReportedUsage | null = null;
    let tools: ToolDelta[] | null = null;
    let outcomes: RpcOutcome[] | null = null;
    let data: unknown = SSE_DONE;
    if (e.data !== SSE_DONE) {
      // Parsed, it would overflow the stack of a walk over it (or the agent's SDK): never delivered.
      if (jsonDeeperThan(e.data, MAX_UPSTREAM_JSON_DEPTH)) {
        this.#failure = new StreamDecodeError(`upstream SSE event data nests arrays and objects more than ${MAX_UPSTREAM_JSON_DEPTH} levels deep`);
        return;
      }
      try {
        data = JSON.parse(e.data);
      } catch {
        this.#failure = new StreamDecodeError('upstream SSE event data is not JSON');
        return;
      }
      text = this.#text(e.event, data);
      if (this.#usage) usage = this.#usage(data);
      if (this.#tools) tools = this.#tools(e.event, data);
      if (this.#outcomes) outcomes = this.#outcomes(data);
    }
    const event: StreamEvent = { raw: formatSse(e.event, e.data, e.id), text, usage, tools };
    if (outcomes) event.outcomes = outcomes;
    if (!this.#complete) this.#complete = this.#terminal!(e.event, data, event, e.id);
    this.#out.push(event);
  }

  push(chunk: Uint8Array): StreamEvent[] {
    this.#parser.feed(this.#utf8.decode(chunk, { stream: true }));
    return this.#take();
  }

  /**
   * The stream's last bytes. An event not closed by a blank line was cut off (the SSE spec
   * drops it; the SDK would end on the event before it): one is added to see whether an event
   * was pending. That, or a stream without its final event, is an early end.
   */
  end(): StreamEvent[] {
    this.#parser.feed(this.#utf8.decode());
    this.#ending = true;
    this.#parser.feed('\n\n');
    this.#parser.reset();
    const out = this.#take();
    if (this.#cutOff) throw new StreamEndedEarly('upstream stream ended inside an event');
    if (!this.#complete) throw new StreamEndedEarly('upstream stream ended before its final event');
    return out;
  }

  #take(): StreamEvent[] {
    if (this.#failure) throw this.#failure;
    const out = this.#out;
    this.#out = [];
    return out;
  }
}
