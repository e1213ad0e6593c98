import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { UpstreamCancel } from '../pipeline/exchange.js';

/** Set on an upstream stream when bytes arrive and none are waiting: the relay reads and clears it with each chunk it takes. */
export const ARRIVED = Symbol('altrace.arrived');
export type StampedStream = Readable & { [ARRIVED]?: number | undefined };

/** A provider's answer: a whole body already collected, or a stream still arriving. */
export type UpstreamReply =
  | { kind: 'whole'; statusCode: number; headers: IncomingHttpHeaders; bytes: Buffer }
  | { kind: 'stream'; statusCode: number; headers: IncomingHttpHeaders; body: Readable };

export interface UpstreamCall {
  origin: string;
  path: string;
  method: string;
  headers: Record<string, string>;
  body: Buffer | null;
  /** Which successful responses to relay as streams instead of collecting whole. */
  streamTypes: RegExp;
  /** Largest whole body accepted; a larger one fails with ALT_RESPONSE_TOO_LARGE. */
  maxWholeBytes: number;
  /** Overrides the dispatcher's idle limit between body chunks; 0: none. */
  bodyTimeoutMs?: number;
}

class ResponseTooLarge extends Error {
  readonly code = 'ALT_RESPONSE_TOO_LARGE';
}

/** The undici error callers already map: an upstream call cancelled by the proxy. */
class UpstreamCancelled extends Error {
  readonly code = 'UND_ERR_ABORTED';
  override readonly name = 'AbortError';
}

/**
 * Calls upstream through undici's dispatch handler API. A whole body is collected straight
 * from the parser's chunks (no body stream, no per-request promise chain beyond one); only
 * a stream gets a Readable, paced by the agent through pause/resume.
 */
export function callUpstream(dispatcher: Dispatcher, call: UpstreamCall, cancel: UpstreamCancel): Promise<UpstreamReply> {
  return new Promise((resolve, reject) => {
    let controller: Dispatcher.DispatchController | null = null;
    let settled = false;
    let statusCode = 0;
    let headers: IncomingHttpHeaders = {};
    let stream: Readable | null = null;
    let chunks: Buffer[] = [];
    let length = 0;
    let ended = false;
    const fail = (err: Error): void => {
      if (stream) stream.destroy(err);
      else if (!settled) {
        settled = true;
        reject(err);
      }
    };
    const onCancel = (): void => {
      if (controller && !controller.aborted) controller.abort(new UpstreamCancelled('upstream request cancelled'));
    };
    if (cancel.cancelled) {
      reject(new UpstreamCancelled('upstream request cancelled'));
      return;
    }
    cancel.watch(onCancel);
    dispatcher.dispatch(
      call.bodyTimeoutMs === undefined
        ? { origin: call.origin, path: call.path, method: call.method as Dispatcher.HttpMethod, headers: call.headers, body: call.body }
        : { origin: call.origin, path: call.path, method: call.method as Dispatcher.HttpMethod, headers: call.headers, body: call.body, bodyTimeout: call.bodyTimeoutMs },
      {
        onRequestStart(c) {
          controller = c;
          if (cancel.cancelled) onCancel();
        },
        onResponseStart(c, status, h) {
          statusCode = status;
          headers = h;
          if (status >= 200 && status < 300 && call.streamTypes.test(String(h['content-type'] ?? ''))) {
            stream = new Readable({
              read: () => c.resume(),
              // A consumer that stops reading (a cut, a loop that returns) ends the upstream call too.
              destroy: (err, cb) => {
                if (!ended && !c.aborted) c.abort(err ?? new UpstreamCancelled('upstream stream abandoned'));
                cb(err);
              },
            });
            settled = true;
            resolve({ kind: 'stream', statusCode, headers, body: stream });
          }
        },
        onResponseData(c, chunk) {
          if (stream) {
            // When the oldest bytes not yet read arrived: where a fragment's stay in the proxy starts (relay.ts).
            const stamped = stream as StampedStream;
            if (stamped[ARRIVED] === undefined) stamped[ARRIVED] = performance.now();
            if (!stream.push(chunk)) c.pause();
            return;
          }
          length += chunk.length;
          if (length > call.maxWholeBytes) {
            c.abort(new ResponseTooLarge(`upstream response exceeds ${call.maxWholeBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd() {
          ended = true;
          cancel.unwatch(onCancel);
          if (stream) {
            stream.push(null);
            return;
          }
          settled = true;
          const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
          chunks = [];
          resolve({ kind: 'whole', statusCode, headers, bytes });
        },
        onResponseError(_c, err) {
          ended = true;
          cancel.unwatch(onCancel);
          fail(err);
        },
      },
    );
  });
}
