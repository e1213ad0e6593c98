import { createServer as createHttp1 } from 'node:http';
import { connect, createServer as createTcp, type Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { ACCEPT_OPTIONS, listening, PROXY_KEEP_ALIVE_MS, silentUntil, type ExplicitListener, type Handler, type ListenerOptions } from './http.js';
import { guardProtocol, http1Options } from './protocol.js';
import { LiveList } from '../live-list.js';

/** Where a redirected connection was going, and who made it, as the kernel recorded it. */
export interface TransparentOrigin {
  address: string;
  port: number;
  /** 0 when the redirect was not made by the cgroup programs (the nftables fallback). */
  cgroupId: bigint;
  netnsCookie: bigint;
  /** The agent's side of the connection, as the listener saw it. */
  peer: string;
}

/** Set on a transparent connection's socket: the proxy reads it back from `req.socket`. */
export const ORIGIN: unique symbol = Symbol('altrace.transparent.origin');

export type OriginSocket = Socket & { [ORIGIN]?: TransparentOrigin | null };

export interface TransparentOptions extends ListenerOptions {
  /** The original destination of an accepted connection: by its peer address (BPF's flow map) or its socket (SO_ORIGINAL_DST). */
  lookup(peer: { address: string; port: number }, socket: Socket): Omit<TransparentOrigin, 'peer'> | null;
  /** What to do with a TLS connection, given where it was going and the name it asked for. */
  tls(origin: TransparentOrigin | null, sni: string | null): TlsAction;
}

/**
 * terminate: the node CA's leaf for the name, and the decrypted HTTP goes through the chain;
 * passthrough: bytes relayed to the original destination, visible only by SNI; refuse: closed.
 */
export type TlsAction = { action: 'terminate'; context: Promise<SecureContext> } | { action: 'passthrough' } | { action: 'refuse' };

export interface TransparentListener extends ExplicitListener {
  /** Ends every connection from this peer address (a killed workload without a kernel teardown); returns how many. */
  destroyFrom(address: string): number;
}

const TLS_HANDSHAKE = 0x16;

/**
 * The transparent listener: connections the kernel redirected here (bpf/connect.bpf.c). Plain
 * HTTP goes through the same handler, and so the same chain, as the explicit listener, with
 * the original destination on the socket. TLS is terminated with the node CA's leaf for the
 * name asked for (agents must trust the CA), relayed as is, or refused, as the caller decides.
 */
export async function listenTransparent(host: string, port: number, handler: Handler, options: TransparentOptions): Promise<TransparentListener> {
  const h1 = guardProtocol(createHttp1(http1Options(options.timeouts, PROXY_KEEP_ALIVE_MS), handler), options.onProtocolError);
  const sockets = new LiveList<Socket>();
  const server = createTcp(ACCEPT_OPTIONS, (socket: OriginSocket) => {
    const listed = sockets.add(socket);
    socket.once('close', () => sockets.delete(listed));
    silentUntil(socket, options.timeouts.headersTimeoutMs);
    const peer = socket.remoteAddress && socket.remotePort ? { address: socket.remoteAddress.replace(/^::ffff:/, ''), port: socket.remotePort } : null;
    const found = peer ? options.lookup(peer, socket) : null;
    const origin = found && peer ? { ...found, peer: peer.address } : null;
    socket[ORIGIN] = origin;
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] !== TLS_HANDSHAKE) {
        socket.setTimeout(0);
        h1.emit('connection', socket);
        process.nextTick(() => socket.resume());
        return;
      }
      const decided = options.tls(origin, serverName(first));
      if (decided.action === 'refuse') socket.destroy();
      else if (decided.action === 'passthrough') (socket.setTimeout(0), relay(socket, origin));
      else
        decided.context.then(
          (secureContext) => {
            const secure: OriginSocket = new TLSSocket(socket, { isServer: true, secureContext, ALPNProtocols: ['http/1.1'] });
            secure[ORIGIN] = origin;
            secure.on('error', () => secure.destroy());
            // The handshake is still timed by silentUntil; once done, the HTTP server's timeouts take over.
            secure.once('secure', () => socket.setTimeout(0));
            h1.emit('connection', secure);
          },
          () => socket.destroy(),
        );
    });
  });
  const listener = await listening(server, port, host, h1, sockets);
  return {
    ...listener,
    destroyFrom(address) {
      let n = 0;
      for (const s of sockets.values()) if (s.remoteAddress?.replace(/^::ffff:/, '') === address) (s.destroy(), n++);
      return n;
    },
  };
}

/** Bytes both ways between the agent and where it was going; the proxy's own connect is not redirected. */
function relay(socket: Socket, origin: TransparentOrigin | null): void {
  if (!origin) {
    socket.destroy();
    return;
  }
  const upstream = connect({ host: origin.address, port: origin.port, noDelay: true });
  upstream.on('error', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  socket.pipe(upstream);
  upstream.pipe(socket);
  socket.resume();
}

/** The server_name of a TLS ClientHello in its first record, or null when absent or cut short. */
export function serverName(record: Buffer): string | null {
  // record header (5) · handshake header (4) · version (2) · random (32)
  let at = 5 + 4 + 2 + 32;
  if (record.length < at + 1 || record[5] !== 0x01) return null;
  at += 1 + record[at]!; // session id
  if (record.length < at + 2) return null;
  at += 2 + record.readUInt16BE(at); // cipher suites
  if (record.length < at + 1) return null;
  at += 1 + record[at]!; // compression methods
  if (record.length < at + 2) return null;
  const end = Math.min(record.length, at + 2 + record.readUInt16BE(at));
  at += 2;
  while (at + 4 <= end) {
    const type = record.readUInt16BE(at);
    const len = record.readUInt16BE(at + 2);
    at += 4;
    if (type === 0 && at + 5 <= end) {
      // server_name_list length (2) · name type (1) · name length (2) · name
      const nameLen = record.readUInt16BE(at + 3);
      if (record[at + 2] === 0 && at + 5 + nameLen <= end) return record.toString('ascii', at + 5, at + 5 + nameLen);
      return null;
    }
    at += len;
  }
  return null;
}
