import { createServer as createHttp1, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttp2, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createTcp, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import { LiveList } from '../live-list.js';
import { HTTP2_HEADER_OPTIONS, limitHttp2Headers } from './http2-headers.js';
import { guardHttp2 } from './http2-timeouts.js';
import { guardProtocol, http1Options, trackConnections, type ClientTimeouts, type ProtocolErrorSink } from './protocol.js';

export type Handler = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => void;

const H2_PREFACE = 'PRI';

/** Load balancers keep idle connections up to 60 s; a longer keep-alive spares them a race with our close. */
export const PROXY_KEEP_ALIVE_MS = 65_000;

/**
 * Accepted connections send at once (TCP_NODELAY). The listeners take sockets from a plain TCP
 * server and hand them to the HTTP servers, so the HTTP servers' own no-delay default never
 * applies: without it, a stream's second fragment waited in the kernel for the agent's delayed
 * ACK of the first (Nagle), 20–40 ms, on every stream (issue 25).
 */
export const ACCEPT_OPTIONS = { noDelay: true } as const;

/** How the data-plane listeners treat clients: timeouts, and where protocol errors are counted. */
export interface ListenerOptions {
  timeouts: ClientTimeouts;
  onProtocolError?: ProtocolErrorSink;
  /** Share the port with the data plane's other loops (SO_REUSEPORT: the kernel spreads new connections over them). */
  reusePort?: boolean;
}

export interface ExplicitListener {
  readonly server: Server;
  readonly port: number;
  close(graceMs?: number): Promise<void>;
}

/**
 * The explicit listener: HTTP/1.1 and cleartext HTTP/2 (prior knowledge) on one port.
 * Some SDKs (the AWS SDK's Bedrock client) speak HTTP/2 by default, so the first bytes
 * of each connection pick the protocol.
 */
export async function listenExplicit(host: string, port: number, handler: Handler, options: ListenerOptions): Promise<ExplicitListener> {
  const h1 = guardProtocol(createHttp1(http1Options(options.timeouts, PROXY_KEEP_ALIVE_MS), handler), options.onProtocolError);
  const h2 = guardHttp2(limitHttp2Headers(createHttp2(HTTP2_HEADER_OPTIONS, handler), options.onProtocolError), options.timeouts, options.onProtocolError);
  // An HTTP/2 session idle this long is closed gracefully: streams still open (a long
  // approval wait, an MCP event stream) finish, and no new ones start on it.
  h2.on('session', (session) => session.setTimeout(PROXY_KEEP_ALIVE_MS, () => session.close()));
  const sockets = new LiveList<Socket>();
  const server = createTcp(ACCEPT_OPTIONS, (socket) => {
    const listed = sockets.add(socket);
    socket.once('close', () => sockets.delete(listed));
    silentUntil(socket, options.timeouts.headersTimeoutMs);
    socket.once('data', (first: Buffer) => {
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(first);
      const isH2 = first.length >= 3 && first.toString('latin1', 0, 3) === H2_PREFACE;
      (isH2 ? h2 : h1).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  return listening(server, port, host, h1, sockets, options.reusePort === true);
}

/**
 * Until its first bytes pick a protocol, a connection belongs to no HTTP server and none of
 * their timeouts apply: one that stays silent this long is closed. Errors before that point
 * (a reset) end it quietly instead of surfacing as an unhandled 'error' event.
 */
export function silentUntil(socket: Socket, ms: number): void {
  socket.setTimeout(ms, () => socket.destroy());
  socket.on('error', () => socket.destroy());
}

/**
 * Starts `server` and returns it with a close that lets requests in progress finish: idle
 * keep-alive connections close at once, busy ones get up to graceMs.
 */
export async function listening(server: Server, port: number, host: string, h1: HttpServer, sockets: LiveList<Socket>, reusePort = false): Promise<ExplicitListener> {
  server.listen(reusePort ? { port, host, reusePort } : { port, host });
  await once(server, 'listening');
  trackConnections(h1);
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    async close(graceMs = 5_000) {
      server.close();
      h1.closeIdleConnections();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        h1.closeIdleConnections();
        await new Promise((r) => setTimeout(r, 25));
      }
      for (const s of sockets.values()) s.destroy();
      h1.close();
    },
  };
}
