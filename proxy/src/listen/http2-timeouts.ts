import { constants, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type Http2Session } from 'node:http2';
import { protocolErrorReply, type ClientTimeouts, type ProtocolErrorSink } from './protocol.js';

/** How long a GOAWAY gets to reach the client before its session is destroyed anyway. */
const GOAWAY_FLUSH_MS = 250;

/**
 * HTTP/2 gets the client timeouts HTTP/1.1 has from Node's parser (http1Options), which
 * node:http2 does not offer: its only timeout is the session's idle one, and a client that
 * keeps trickling bytes, or sends half a preface and waits, is never idle long enough.
 *
 * - A session must complete its preface and its first HEADERS within headersTimeoutMs, or it
 *   is sent GOAWAY (the reason in its debug data) and destroyed. Later HEADERS are not timed:
 *   nghttp2 reports a stream only once its headers are complete, and a session with nothing in
 *   flight is closed by the idle timeout like a keep-alive connection.
 * - A stream whose request body is not complete within requestTimeoutMs, and which nothing has
 *   answered yet, is answered 408 ALT_REQUEST_TIMEOUT in JSON and reset. The response is never
 *   timed: streams and approval waits run as long as they run.
 */
export function guardHttp2(server: Http2Server, t: ClientTimeouts, sink?: ProtocolErrorSink): Http2Server {
  server.on('session', (session: Http2Session) => {
    const timer = setTimeout(() => expireSession(session, sink), t.headersTimeoutMs);
    const clear = (): void => clearTimeout(timer);
    session.once('stream', clear);
    session.once('close', clear);
  });
  server.on('request', (req: Http2ServerRequest, res: Http2ServerResponse) => {
    // END_STREAM on the HEADERS frame: there is no body to wait for.
    if (req.stream.endAfterHeaders) return;
    const timer = setTimeout(() => expireStream(req, res, sink), t.requestTimeoutMs);
    const clear = (): void => clearTimeout(timer);
    req.once('end', clear);
    res.once('close', clear);
  });
  return server;
}

function expireSession(session: Http2Session, sink?: ProtocolErrorSink): void {
  if (session.destroyed) return;
  sink?.('ALT_REQUEST_TIMEOUT');
  session.goaway(constants.NGHTTP2_NO_ERROR, 0, Buffer.from('ALT_REQUEST_TIMEOUT: the HTTP/2 preface and first request headers were not received in time'));
  // A client that stopped reading must not hold the session open either.
  const destroy = setTimeout(() => session.destroy(), GOAWAY_FLUSH_MS);
  session.once('close', () => clearTimeout(destroy));
  session.close();
}

function expireStream(req: Http2ServerRequest, res: Http2ServerResponse, sink?: ProtocolErrorSink): void {
  // Answered already (the handler decided without the rest of the body): not a timeout.
  if (res.headersSent || req.stream.destroyed) return;
  sink?.('ALT_REQUEST_TIMEOUT');
  const reply = protocolErrorReply('ALT_REQUEST_TIMEOUT', 'the request body was not received in time; the stream is reset');
  res.writeHead(reply.status, reply.headers);
  // RST_STREAM after the answer: the client's half is still open, and it is to stop sending.
  res.end(reply.body, () => req.stream.close(constants.NGHTTP2_NO_ERROR));
}
