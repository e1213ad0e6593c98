// The replica's node-facing listener (docs/fleet.md): HTTP/2 over TLS 1.3 with the fleet CA.
// Enrollment needs no client certificate (the bootstrap token admits the node); renewal and the
// node stream need a valid one, of a node that has not been removed, of its current serial.
import { once } from 'node:events';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import { parseControlJson, readControlBody } from '../control/router.js';
import type { FleetIdentityStore, NodeRecord } from '../state/postgres/index.js';
import type { Enrollment } from './enrollment.js';
import { nodeIdOf } from './certificate-names.js';
import type { ServerCredentials } from './fleet-ca.js';
import { NodeSession, type SessionDeps } from './node-session.js';

const MAX_JSON_DEPTH = 16;

export interface FleetServerDeps extends SessionDeps {
  credentials: ServerCredentials;
  enrollment: Enrollment;
  fleet: FleetIdentityStore;
  logger: Logger;
  /** Serials revoked through the control API (altrace certs revoke): a node's too. */
  revoked?: (serial: string) => boolean;
}

function sendJson(res: Http2ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export class FleetServer {
  readonly #server: Http2SecureServer;
  readonly #sessions = new Set<NodeSession>();
  /** The certificate serial each open stream was opened with: a revocation ends the stream too. */
  readonly #serials = new Map<NodeSession, string>();
  /** Each node's record as last read, for admitting it while PostgreSQL is unavailable. */
  readonly #known = new Map<string, NodeRecord | null>();

  constructor(private readonly d: FleetServerDeps) {
    // The client certificate is asked for, not required, so enrollment can answer over the same
    // port and a bad certificate gets a reply that says what is wrong with it.
    this.#server = createSecureServer({ ...d.credentials, requestCert: true, rejectUnauthorized: false, allowHTTP1: false }, (req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        const known = err instanceof ControlError;
        if (!known) d.logger.error({ err: (err as Error).message, path: req.url }, 'fleet endpoint failed');
        const e = known ? err : new ControlError('ALT_INTERNAL', (err as Error).message);
        sendJson(res, e.status, { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } });
      });
    });
    // A peer that is not a node (a port scanner, a TLS client without the CA) gets nothing.
    this.#server.on('sessionError', () => {});
    this.#server.on('tlsClientError', () => {});
  }

  /** The streams open now: what `altrace nodes` and the metrics read. */
  get sessions(): ReadonlySet<NodeSession> {
    return this.#sessions;
  }

  async listen(host: string, port: number): Promise<number> {
    this.#server.listen(port, host);
    await once(this.#server, 'listening');
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of [...this.#sessions]) s.close({ code: 'ALT_FLEET_STALE', message: 'the control-plane replica is shutting down; reconnect to another' });
    const closed = once(this.#server, 'close');
    this.#server.close();
    await closed;
  }

  async #handle(req: Http2ServerRequest, res: Http2ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || !['/fleet/v1/enroll', '/fleet/v1/renew', '/fleet/v1/stream'].includes(path!)) {
      throw new ControlError('ALT_NOT_FOUND', `no such fleet endpoint: ${req.method} ${path}`);
    }
    if (path === '/fleet/v1/enroll') {
      const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
      const body = parseControlJson(await readControlBody(req as never), MAX_JSON_DEPTH);
      const reply = await this.d.enrollment.enroll(bearer, body).catch((err: unknown) => {
        if (err instanceof ControlError) this.d.logger.warn({ code: err.code, err: err.message, source: req.socket.remoteAddress }, 'node enrollment refused');
        throw err;
      });
      this.d.logger.info({ node: reply.node_id, admitted_by: reply.admittedBy, expires: reply.expires_at }, 'node enrolled');
      const { admittedBy: _admitted, ...out } = reply;
      return sendJson(res, 201, out);
    }
    const { nodeId, serial } = await this.#authenticatedNode(req);
    if (path === '/fleet/v1/renew') {
      const body = parseControlJson(await readControlBody(req as never), MAX_JSON_DEPTH);
      const reply = await this.d.enrollment.renew(nodeId, body);
      this.d.logger.info({ node: nodeId, expires: reply.expires_at }, 'node certificate renewed');
      return sendJson(res, 201, reply);
    }
    const session = new NodeSession(nodeId, req, res, this.d, (s) => {
      this.#sessions.delete(s);
      this.#serials.delete(s);
      this.d.metrics.nodeStreams.set(this.#sessions.size);
    });
    this.#sessions.add(session);
    this.#serials.set(session, serial);
    this.d.metrics.nodeStreams.set(this.#sessions.size);
    session.start();
  }

  /** Ends the open streams whose certificate has been revoked since they opened (called each second). */
  endRevoked(): void {
    if (!this.d.revoked) return;
    for (const [session, serial] of this.#serials) {
      if (this.d.revoked(serial)) session.close({ code: 'ALT_FLEET_UNAUTHENTICATED', message: `the certificate of node ${session.nodeId} (${serial}) was revoked` });
    }
  }

  /** The node a request comes from, by its verified certificate; a refusal says what is wrong. */
  async #authenticatedNode(req: Http2ServerRequest): Promise<{ nodeId: string; serial: string }> {
    const socket = req.socket as unknown as TLSSocket;
    const peer = socket.getPeerCertificate();
    const refuse = (why: string): never => {
      this.d.logger.warn({ source: socket.remoteAddress, err: why }, 'node refused');
      throw new ControlError('ALT_FLEET_UNAUTHENTICATED', why);
    };
    if (!peer || Object.keys(peer).length === 0) refuse('a client certificate is required: enroll first (POST /fleet/v1/enroll)');
    if (!socket.authorized) refuse(`the client certificate is not valid: ${String(socket.authorizationError ?? 'not signed by the fleet CA')}`);
    if (this.d.revoked?.(peer.serialNumber ?? '')) refuse(`the client certificate ${peer.serialNumber} is revoked`);
    const nodeId = nodeIdOf(peer);
    if (!nodeId) return refuse('the client certificate names no node (no altrace://node/ URI)');
    let node: NodeRecord | null;
    try {
      node = await this.d.fleet.getNode(nodeId);
      this.#known.set(nodeId, node);
    } catch (err) {
      // PostgreSQL unavailable: a node this replica admitted before comes back on what it knew
      // then (the replica holds the state it needs), so a database outage does not cut the fleet.
      if (!this.#known.has(nodeId)) throw err;
      node = this.#known.get(nodeId)!;
      this.d.logger.warn({ node: nodeId, err: (err as Error).message }, 'database unavailable: node admitted on its last known record');
    }
    if (!node || node.removedAt !== null) refuse(`node ${nodeId} was removed or never enrolled: enroll again with a bootstrap token`);
    if (normalSerial(peer.serialNumber) !== normalSerial(node!.certSerial)) refuse(`the certificate of node ${nodeId} was replaced by a newer one: use that one`);
    return { nodeId, serial: peer.serialNumber ?? '' };
  }
}

/** Certificate serials as hex without leading zeros, in upper case (Node and the CA library print them differently). */
const normalSerial = (s: string): string => s.toUpperCase().replace(/^0+/, '');
