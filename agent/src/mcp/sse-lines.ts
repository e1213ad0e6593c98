import { createParser } from 'eventsource-parser';

/** One server-sent event as a client reads it. */
export interface SseEvent {
  event: string;
  data: string;
}

/** Reads server-sent events from a web stream (a fetch body) as they arrive. */
export async function* readSse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const arrived: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => arrived.push({ event: e.event ?? 'message', data: e.data }) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(decoder.decode(chunk, { stream: true }));
    while (arrived.length > 0) yield arrived.shift()!;
  }
}
