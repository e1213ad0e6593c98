import { STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerOptions, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { lingerOnClose, lingerThenDestroy } from './linger.js';
import { reasons, type ReasonCode } from '../core/reasons.js';
import { openAiErrorReply } from '../providers/openai/errors.js';

/** How long a client may take to send a request; the response may take as long as it takes. */
export interface ClientTimeouts {
  /** From the start of a request (or of the connection) until its headers are complete. */
  headersTimeoutMs: number;
  /** Until the whole request, body included, is received. Not the response: streams and approval waits are not cut. */
  requestTimeoutMs: number;
}

/** A connection answered (or dropped) for a protocol error, by reason code: for a counter (and, with the socket, an audit record). */
export type ProtocolErrorSink = (reason: ProtocolReason, socket?: Duplex) => void;

export type ProtocolReason = Extract<ReasonCode, 'ALT_MALFORMED_HTTP' | 'ALT_HEADERS_TOO_LARGE' | 'ALT_REQUEST_TIMEOUT' | 'ALT_METHOD_NOT_ALLOWED'>;

/**
 * Node's HTTP/1.1 server options for a listener facing untrusted clients. headersTimeout and
 * requestTimeout are only enforced when Node sweeps its connections, every
 * connectionsCheckingInterval (30 s by default), so the sweep runs often enough for a
 * slow-header client to be closed close to the header timeout.
 */
export function http1Options(t: ClientTimeouts, keepAliveTimeoutMs: number): ServerOptions {
  return {
    keepAliveTimeout: keepAliveTimeoutMs,
    headersTimeout: t.headersTimeoutMs,
    requestTimeout: t.requestTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(t.headersTimeoutMs / 4))),
  };
}

/**
 * Answers in JSON, with a reason code, what Node's HTTP/1.1 server would otherwise answer with
 * a bare status or a silent close: protocol errors (answerProtocolError), an HTTP/1.1 request
 * without Host, a CONNECT, an Expect it cannot meet. Call it after the server's request handler is attached.
 */
export function guardProtocol(server: HttpServer, sink?: ProtocolErrorSink): HttpServer {
  server.on('clientError', (err: Error & { code?: string; reason?: string }, socket: Duplex) => answerProtocolError(err, socket, sink));
  server.on('connection', lingerOnClose);
  // Without a 'connect' listener Node destroys the socket without a word. A client that took
  // Altrace for an HTTPS forward proxy learns what to do instead.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    sink?.('ALT_METHOD_NOT_ALLOWED');
    socket.on('error', () => socket.destroy());
    socket.end(rawReply('ALT_METHOD_NOT_ALLOWED', "CONNECT is not served: Altrace is not a forward proxy; point the SDK's base URL at it instead; the connection is closed"));
  });
  // Node answers an Expect it cannot meet (anything but 100-continue) with a bare 417.
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    sink?.('ALT_MALFORMED_HTTP');
    const reply = protocolErrorReply('ALT_MALFORMED_HTTP', `Expect: ${String(req.headers.expect).slice(0, 100)} cannot be met (only 100-continue can); the connection is closed`);
    res.writeHead(417, { ...reply.headers, connection: 'close' });
    res.end(reply.body);
  });
  requireHost(server, sink);
  return server;
}

/**
 * RFC 9112 §3.2: a server must answer 400 to an HTTP/1.1 request without Host, as the front
 * proxies in front of it do (nginx, Envoy); only hand-made or broken clients send one. Node
 * answers it with a bare 400 from inside its parser, so its own check is off and this one
 * answers like every refusal, before the server's handlers run. HTTP/1.0 has no Host and is
 * served.
 */
function requireHost(server: HttpServer, sink?: ProtocolErrorSink): void {
  (server as HttpServer & { requireHostHeader: boolean }).requireHostHeader = false;
  const handlers = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.headers.host !== undefined || req.httpVersion !== '1.1') {
      for (const handler of handlers) handler.call(server, req, res);
      return;
    }
    sink?.('ALT_MALFORMED_HTTP');
    const reply = protocolErrorReply('ALT_MALFORMED_HTTP', 'the HTTP/1.1 request has no Host header (RFC 9112, section 3.2); the connection is closed');
    res.writeHead(reply.status, { ...reply.headers, connection: 'close' });
    res.end(reply.body);
  });
}

/**
 * For an HTTP server that never listens itself (the proxy's listeners hand it connections
 * their own TCP server accepted): Node starts the sweep that enforces headersTimeout and
 * requestTimeout, and the list closeIdleConnections walks, when the server emits
 * 'listening' (lib/_http_server.js, setupConnectionsTracking). Without it a slow-header
 * client is never closed. http.Server#close stops the sweep again.
 */
export function trackConnections(server: HttpServer): void {
  server.emit('listening');
}

/** The reason for a clientError by its code; null for a connection that is already gone. */
export function protocolReason(code: string | undefined): ProtocolReason | null {
  if (code === 'HPE_HEADER_OVERFLOW') return 'ALT_HEADERS_TOO_LARGE';
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'HPE_HEADERS_TIMEOUT') return 'ALT_REQUEST_TIMEOUT';
  if (code?.startsWith('HPE_')) return 'ALT_MALFORMED_HTTP';
  return null;
}

const ANSWERED: unique symbol = Symbol('altrace.protocol-error.answered');

/**
 * What Node's parser could not accept (bare CR or LF, folded headers, bad chunk sizes,
 * oversized headers, a client too slow to send them) is answered like every other refusal: a
 * JSON error with a reason code, then the connection closes, since the parser cannot find the
 * next request in what follows. Requests read before it on the connection are answered first.
 */
export function answerProtocolError(err: Error & { code?: string; reason?: string }, socket: Duplex & { [ANSWERED]?: true; _httpMessage?: unknown }, sink?: ProtocolErrorSink): void {
  // Bytes after the client's own `Connection: close` (a body a HEAD or GET declared no length
  // for) while its request is being answered: that request was whole and gets its own answer,
  // headers only for a HEAD. A JSON 400 written here instead would reach the client as a body
  // after that answer, and the call would still be carried out behind it.
  if (err.code === 'HPE_CLOSED_CONNECTION' && socket._httpMessage) return;
  const reason = protocolReason(err.code);
  if (reason === null) {
    socket.destroy();
    return;
  }
  // Bytes a client sends after its refusal fail to parse again: one answer, one count, per
  // connection; the lingering close below discards them.
  if (socket[ANSWERED]) return;
  socket[ANSWERED] = true;
  sink?.(reason, socket);
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // Requests the parser read whole before this one (pipelined) are answered first, in order;
  // the refusal follows the last of them. Written at once, it would have corrupted an answer
  // being written, or been read as the answer to an earlier request.
  afterPendingResponses(socket, () => {
    const current = socket._httpMessage as { headersSent?: boolean } | null | undefined;
    // The error is in the request being answered (its body broke off or stalled): an answer
    // already begun cannot be followed by another.
    if (!socket.writable || current?.headersSent) return void socket.destroy();
    socket.write(rawReply(reason, describe(reason, err)));
    lingerThenDestroy(socket);
  });
}

type Outgoing = { req?: { complete: boolean }; once(event: 'finish' | 'close', fn: () => void): void };

/**
 * Runs `then` once the response assigned to `socket` is not one to a whole request any more.
 * Node writes pipelined responses one at a time: the one being written is the socket's
 * `_httpMessage`, and when it finishes the next queued one takes its place
 * (lib/_http_server.js, resOnFinish). A response whose request is incomplete is the one the
 * error is about: it will not finish, so nothing waits for it.
 */
function afterPendingResponses(socket: Duplex & { _httpMessage?: unknown }, then: () => void): void {
  const current = socket._httpMessage as Outgoing | null | undefined;
  if (!current || socket.destroyed || current.req?.complete === false) return then();
  let stepped = false;
  const step = () => {
    if (stepped) return;
    stepped = true;
    setImmediate(() => afterPendingResponses(socket, then));
  };
  current.once('finish', step);
  current.once('close', step);
}

function describe(reason: ProtocolReason, err: Error & { code?: string; reason?: string }): string {
  if (reason === 'ALT_REQUEST_TIMEOUT') return 'the request was not received in time; the connection is closed';
  if (reason === 'ALT_HEADERS_TOO_LARGE') return 'the request headers are too large; the connection is closed';
  // llhttp's reasons are fixed phrases ("Invalid header value char"), never request bytes.
  return `the HTTP request is malformed (${err.code}: ${err.reason ?? err.message}); the connection is closed`;
}

/** A refusal made before any request could be routed, as status, headers and body. */
export interface ProtocolErrorReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Which provider the client speaks is unknown before its request could be read: the body is
 * OpenAI's error shape, the fallback every unrouted refusal uses. The headers are those of every
 * refusal (request id, reason, stage, and x-should-retry where retrying cannot help).
 */
export function protocolErrorReply(reason: ProtocolReason, message: string): ProtocolErrorReply {
  const info = reasons[reason];
  const id = randomUUID();
  const { body } = openAiErrorReply({ request_id: id, stage: 'listener', reason, hint: info.hint }, info.status, message, info.errorClass);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    'x-altrace-request-id': id,
    'x-altrace-reason': reason,
    'x-altrace-stage': 'listener',
  };
  if (info.retry === 'never') headers['x-should-retry'] = 'false';
  return { status: info.status, headers, body };
}

function rawReply(reason: ProtocolReason, message: string): string {
  const reply = protocolErrorReply(reason, message);
  let head = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status]}\r\nconnection: close\r\n`;
  for (const [name, value] of Object.entries(reply.headers)) head += `${name}: ${value}\r\n`;
  return `${head}\r\n${reply.body}`;
}
