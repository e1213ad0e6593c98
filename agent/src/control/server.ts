import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer, type Server as HttpsServer } from 'node:https';
import type { ControlTls } from './control-tls.js';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { AddressInfo } from 'node:net';
import { guardProtocol, hashKey, targetUrl, http1Options, RateBuckets, type Chain, type ClientTimeouts, type ProxyMetrics } from '../../../proxy/src/index.js';
import { ControlError, MethodNotAllowed } from '../errors.js';
import { controlStatus } from '../error-codes.js';
import type { SourcePolicy } from './source-policy.js';
import type { SourceFailures } from './source-failures.js';
import { ROLE_PERMISSIONS, roleOf } from '../services/roles.js';
import { DatabaseUnreachableError } from '../state/postgres/errors.js';
import type { AuditService } from '../audit/service.js';
import type { BudgetService } from '../services/budget-service.js';
import type { EnforcementService } from '../services/enforcement-service.js';
import type { KeyService } from '../services/key-service.js';
import type { KillService } from '../services/kill-service.js';
import type { ServiceStore } from '../state/service-store.js';
import type { TokenService } from '../services/token-service.js';
import { ControlRoutes, parseControlJson, readControlBody, type ControlReply, type RouteInfo } from './router.js';
import type { Operator } from '../services/operator.js';
import { delegationRoutes } from './routes/delegations.js';
import { agentRoutes } from './routes/agents.js';
import { nodeRoutes, type NodeView } from './routes/node.js';
import { auditRoutes } from './routes/audit.js';
import { budgetRoutes } from './routes/budgets.js';
import { keyRoutes } from './routes/keys.js';
import { killRoutes } from './routes/kill.js';
import { tokenRoutes } from './routes/tokens.js';
import { lockoutRoutes } from './routes/lockouts.js';
import { certificateRoutes } from './routes/certificates.js';
import { CertificateService } from '../services/certificate-service.js';
import { approvalRoutes } from './routes/approvals.js';
import type { ApprovalService } from '../services/approval-service.js';
import type { DelegationService } from '../services/delegation-service.js';

export interface ControlDeps {
  /** TLS, with client certificates (control.tls); absent: plain HTTP. The ops listener stays plain. */
  tls?: ControlTls | null;
  /** Operators' client certificates (issue, list, revoke, CRL): with control.tls. */
  certificates?: CertificateService | null;
  /** The same client timeouts as the proxy's listeners (listen.headers_timeout_ms, listen.request_timeout_ms). */
  timeouts: ClientTimeouts;
  /** limits.max_json_depth, as on the data plane. */
  maxJsonDepth: number;
  /** The decision chain this process runs; null on a control-plane replica, which runs none. */
  chain: Chain | null;
  keys: KeyService;
  kills: KillService;
  budgets: BudgetService;
  enforcement: EnforcementService;
  tokens: TokenService;
  approvals: ApprovalService;
  delegation: DelegationService;
  store: ServiceStore;
  metrics: ProxyMetrics;
  /** The other data-plane loops' metrics (listen.loops > 1): summed with this loop's on every scrape. */
  loopMetrics?: () => Promise<MetricObjectWithValues<MetricValue<string>>[][]>;
  /** Null when the audit log is disabled in the configuration. */
  audit: AuditService | null;
  ready: () => boolean;
  /** Node enforcement, once it is running; null when it is off. */
  node: () => NodeView | null;
  /** Routes only one role serves (a control-plane replica's `/nodes`). */
  moreRoutes?: (routes: ControlRoutes) => void;
  /** Unknown operator tokens per source address; a source over the limit is refused before its token is looked at. */
  authFailures?: SourceFailures;
  /** limits.control_calls_per_minute: calls one operator identity may make per minute (0 or absent: no limit). */
  callsPerMinute?: number;
  /** control.allow_cidrs and control.trusted_proxies; null or absent: any address, forwarded headers not read. */
  sources?: SourcePolicy | null;
}

/** Node's default: the console and the CLI reconnect cheaply. */
const CONTROL_KEEP_ALIVE_MS = 5_000;
const OPS_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
const OPS_METHODS = ['GET', 'HEAD'];

/** Headers every reply carries; a reply sent before its request body was read closes the connection. */
function replyHeaders(req: IncomingMessage, contentType: string): Record<string, string> {
  // What is left of an unread body would be read as the next request.
  return req.complete ? { 'content-type': contentType } : { 'content-type': contentType, connection: 'close' };
}

/**
 * A refusal sent while the client is still sending its body makes the client's next write fail
 * (EPIPE) and can lose the answer with the connection: the rest of a body up to this size is read
 * (and dropped) first, so the client sees the answer; a longer one is answered at once, and closed.
 */
const DRAIN_BEFORE_ANSWER_BYTES = 8 * 1024 * 1024;

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  if (!req.complete && !req.destroyed && !res.headersSent && !(req as { drained?: boolean }).drained) {
    (req as { drained?: boolean }).drained = true;
    let seen = 0;
    const answer = () => {
      req.off('data', count);
      req.off('end', answer);
      // Still closed after: a refusal made mid-body leaves the connection in no state worth keeping.
      send(req, res, status, body, { ...extra, connection: 'close' });
    };
    const count = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > DRAIN_BEFORE_ANSWER_BYTES) answer();
    };
    req.on('data', count);
    req.once('end', answer);
    req.resume();
    return;
  }
  const text = JSON.stringify(body);
  // Node writes no body after the head of a HEAD reply; content-length still says what GET would send.
  res.writeHead(status, { ...replyHeaders(req, 'application/json'), ...extra, 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** The error reply of a refusal: its code, message and field, and the headers it calls for. */
function refusalReply(err: unknown): { status: number; code: string; body: unknown; headers: Record<string, string> } {
  // A control plane without its database: nothing changed, and the call can be sent again.
  if (err instanceof DatabaseUnreachableError) err = new ControlError('ALT_DATABASE_UNREACHABLE', err.message, undefined, 1);
  if (!(err instanceof ControlError)) return { status: 500, code: 'ALT_INTERNAL', body: { error: { code: 'ALT_INTERNAL', message: (err as Error).message } }, headers: {} };
  const headers: Record<string, string> = {};
  if (err.retryAfterS) headers['retry-after'] = String(err.retryAfterS);
  if (err instanceof MethodNotAllowed) headers.allow = err.allow.join(', ');
  return { status: err.status, code: err.code, body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } }, headers };
}

/**
 * The control API (prefix /api/v1) and the ops endpoints. Every /api call is
 * authenticated with an operator token and authorized by its team scope; a handler
 * returns only after the state change it made is on disk.
 */
export class ControlServer {
  #server: Server | null = null;
  #ops: Server | null = null;
  readonly #routes = new ControlRoutes();
  /** Successful calls per operator identity (limits.control_calls_per_minute). */
  readonly #calls = new RateBuckets(10_000);

  constructor(private readonly d: ControlDeps) {
    // First: a role's route takes the place of the node's for the same path (the router answers with the first match).
    d.moreRoutes?.(this.#routes);
    this.#routes.add('GET', '/chain', 'read', () => {
      if (!d.chain) throw new ControlError('ALT_NOT_FOUND', "the decision chain runs on the nodes, not on the control plane: ask a node's control API");
      return { status: 200, body: { stages: d.chain.describe() } };
    });
    keyRoutes(this.#routes, d.keys);
    killRoutes(this.#routes, d.kills);
    budgetRoutes(this.#routes, d.budgets);
    tokenRoutes(this.#routes, d.tokens);
    if (d.authFailures) lockoutRoutes(this.#routes, d.authFailures);
    // Declared with or without TLS, so every role is walked over them; without a control CA, issuing is refused.
    certificateRoutes(this.#routes, d.certificates ?? new CertificateService(d.store, null, async () => {}), d.tls ?? null);
    approvalRoutes(this.#routes, d.approvals);
    delegationRoutes(this.#routes, d.delegation);
    if (d.audit) auditRoutes(this.#routes, d.audit);
    agentRoutes(this.#routes, d.enforcement, d.node);
    nodeRoutes(this.#routes, { status: () => d.node()?.status() ?? { enforcement: 'off' }, shadowAgents: () => d.node()?.shadowAgents() ?? [], caPem: () => d.node()?.caPem() ?? null });
  }

  /** Prometheus text: this loop's registry, with the other loops' counters and histograms summed in. */
  async #metricsText(): Promise<string> {
    const registry = this.d.metrics.registry;
    const others = this.d.loopMetrics ? await this.d.loopMetrics() : [];
    if (others.length === 0) return registry.metrics();
    return AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), ...others]).metrics();
  }


  /** Every /api/v1 route, as declared. */
  get routes(): RouteInfo[] {
    return this.#routes.list();
  }

  /** The control API (and the ops paths) on host:port. */
  async listen(host: string, port: number): Promise<number> {
    this.#server = await this.#listen(host, port, false, 'control');
    return (this.#server.address() as AddressInfo).port;
  }

  /** A second listener serving /healthz, /readyz and /metrics only (listen.ops_port): what a node address may expose to the cluster's Prometheus and probes. */
  async listenOps(host: string, port: number): Promise<number> {
    this.#ops = await this.#listen(host, port, true, 'ops');
    return (this.#ops.address() as AddressInfo).port;
  }

  async #listen(host: string, port: number, opsOnly: boolean, listener: string): Promise<Server> {
    const metrics = this.d.metrics;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      // #handle answers every failure itself; this is the last guard, so no rejection is left unhandled.
      this.#handle(req, res, opsOnly).catch(() => res.destroy());
    };
    const tls = opsOnly ? null : (this.d.tls ?? null);
    let raw: Server;
    if (tls) {
      const secure = createTlsServer({ ...http1Options(this.d.timeouts, CONTROL_KEEP_ALIVE_MS), ...tls.serverOptions() }, handler);
      tls.attach(secure);
      // A handshake that fails (a malformed certificate, no common protocol) never becomes a request: counted and audited here.
      secure.on('tlsClientError', (err: Error & { code?: string }, socket) => {
        metrics.authFailures.inc({ port: 'control_tls' });
        this.#refusedBeforeRequest(socket.remoteAddress ?? '', `TLS handshake: ${err.code ?? err.message}`, 400, 'ALT_CERT_INVALID');
      });
      raw = secure as unknown as Server;
    } else raw = createServer(http1Options(this.d.timeouts, CONTROL_KEEP_ALIVE_MS), handler);
    const server = guardProtocol(raw, (reason, socket) => {
      metrics.protocolErrors.inc({ listener, reason });
      // Oversized headers, malformed requests, a client too slow: refused before any token is read, and recorded.
      if (!opsOnly) this.#refusedBeforeRequest((socket as { remoteAddress?: string } | undefined)?.remoteAddress ?? '', `PROTOCOL ${reason}`, PROTOCOL_STATUS[reason], reason);
    });
    server.listen(port, host);
    await once(server, 'listening');
    return server;
  }

  /**
   * A connection refused before it became a request (a failed handshake, a protocol error): it
   * counts toward its source's lockout like a failed token, and is an audit record — until the
   * source is locked out, so that a flood of them costs one record per allowed failure, not one each.
   */
  #refusedBeforeRequest(source: string, action: string, status: number, code: string): void {
    const failures = this.d.authFailures;
    const audit = this.d.audit;
    void (async () => {
      if (failures) {
        if (failures.watching && (await failures.retryAfterMs(source)) > 0) return;
        if (await failures.fail(source)) await audit?.control({ name: '(unauthenticated)', team: null }, 'LOCKOUT', source, 429, 'ALT_AUTH_THROTTLED', false);
      }
      await audit?.control({ name: '(unauthenticated)', team: null }, action, source, status, code, false);
    })().catch(() => {});
  }

  async close(): Promise<void> {
    for (const server of [this.#server, this.#ops]) {
      if (!server) continue;
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    }
  }

  async #authenticate(req: IncomingMessage): Promise<Operator> {
    // A client certificate, when the connection presented one, is who the caller is.
    const certified = this.d.tls?.operatorFor(req.socket) ?? null;
    if (certified) return { name: certified.name, team: certified.team, role: certified.role };
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new ControlError('ALT_UNAUTHENTICATED', 'send an operator token: Authorization: Bearer <token>');
    // Looked up by sha256: the token itself is never stored, and the hash leaks nothing to timing.
    const hash = hashKey(m[1]!);
    const op = await this.d.store.findOperatorToken(hash);
    if (!op) {
      // A deleted token used again is a security event of its own: the credential leaked, or a caller was not moved.
      const revoked = await this.d.store.findRevokedToken(hash);
      if (revoked) throw new ControlError('ALT_TOKEN_REVOKED', `operator token ${revoked.name} was deleted at ${new Date(revoked.deletedAt).toISOString()}`);
      throw new ControlError('ALT_UNAUTHENTICATED', 'unknown operator token');
    }
    if (op.expiresAt !== null && op.expiresAt <= Date.now()) throw new ControlError('ALT_UNAUTHENTICATED', `operator token ${op.name} expired at ${new Date(op.expiresAt).toISOString()}`);
    return op;
  }

  /**
   * Authenticates, counting failures per source: every failed attempt is audited (not fsynced:
   * an attacker must not buy an fsync per guess), and a source over the limit is refused
   * before its token is looked at.
   */
  async #authenticateFrom(req: IncomingMessage, method: string, route: string, source: string): Promise<Operator> {
    const failures = this.d.authFailures;
    // Counted per source address and per token prefix: one token guessed at (or replayed) from
    // many addresses is locked out too. The prefix names the token in lockouts and the audit log.
    const prefix = tokenPrefix(req.headers.authorization);
    for (const key of prefix ? [source, prefix] : [source]) {
      const wait = failures?.watching ? await failures.retryAfterMs(key) : 0;
      if (wait > 0) {
        this.d.metrics.authFailures.inc({ port: 'control_throttled' });
        throw new ControlError('ALT_AUTH_THROTTLED', `too many failed operator tokens ${key === source ? `from ${source}` : `starting ${key.slice(6)}`}: retry in ${Math.ceil(wait / 1000)} s`, undefined, Math.ceil(wait / 1000));
      }
    }
    try {
      return await this.#authenticate(req);
    } catch (err) {
      // The failure that locks the source (or the token) out is a security event of its own in the audit log.
      for (const key of prefix ? [source, prefix] : [source]) {
        if (await failures?.fail(key)) void this.d.audit?.control({ name: '(unauthenticated)', team: null }, 'LOCKOUT', key, 429, 'ALT_AUTH_THROTTLED', false).catch(() => {});
      }
      this.d.metrics.authFailures.inc({ port: 'control' });
      void this.d.audit?.control({ name: '(unauthenticated)', team: null }, `${method} ${route}`, source, 401, (err as ControlError).code, false).catch(() => {});
      throw err;
    }
  }

  /**
   * The address the request is judged by (the peer, or the client a trusted proxy forwards for);
   * a refusal is audited, unauthenticated, before any token is looked at.
   */
  #sourceOf(req: IncomingMessage, method: string, path: string): string {
    const peer = req.socket.remoteAddress ?? '';
    const sources = this.d.sources;
    if (!sources) return peer;
    const judged = sources.judge(peer, req.headers);
    if (judged.ok) return judged.address;
    this.d.metrics.authFailures.inc({ port: judged.code === 'ALT_SOURCE_DENIED' ? 'control_source_denied' : 'control_forwarded_refused' });
    void this.d.audit?.control({ name: '(unauthenticated)', team: null }, `${method} ${path.replace(/^\/api\/v1/, '')}`, judged.address, controlStatus(judged.code), judged.code, false).catch(() => {});
    throw new ControlError(judged.code, judged.message);
  }

  async #handle(req: IncomingMessage, res: ServerResponse, opsOnly: boolean): Promise<void> {
    let operator: Operator | null = null;
    let route = '';
    let target = '';
    let changesState = false;
    const method = req.method ?? 'GET';
    // Held here: Node detaches it from the request once the connection is gone.
    const socket = req.socket;
    // Every authenticated call is audited; a state change is on disk, in the store and in
    // the audit log, before the reply leaves.
    const audited = async (status: number, error: string | null) => {
      if (operator && this.d.audit) await this.d.audit.control(operator, `${method} ${route}`, target, status, error, changesState && status < 400);
    };
    try {
      const bytes = await readControlBody(req);
      // The listener answered this connection itself (a request timeout, a protocol error): the
      // client was told its request failed, so it is not carried out.
      if (socket.writableEnded) return;
      const url = requestUrl(req.url);
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (OPS_PATHS.has(path) && !OPS_METHODS.includes(method)) throw new MethodNotAllowed(method, path, OPS_METHODS);
      if (path === '/healthz') return send(req, res, 200, { status: 'ok' });
      if (path === '/readyz') return send(req, res, this.d.ready() ? 200 : 503, { status: this.d.ready() ? 'ready' : 'starting' });
      if (path === '/metrics') {
        const text = await this.#metricsText();
        res.writeHead(200, { ...replyHeaders(req, this.d.metrics.registry.contentType), 'content-length': String(Buffer.byteLength(text)) });
        return void res.end(text);
      }
      if (opsOnly) throw new ControlError('ALT_NOT_FOUND', `this port serves /healthz, /readyz and /metrics only (listen.ops_port); the control API is on listen.control_port`);
      const source = this.#sourceOf(req, method, path);
      if (!path.startsWith('/api/v1/')) throw new ControlError('ALT_NOT_FOUND', `no such endpoint: ${method} ${path}`);
      route = path.slice('/api/v1'.length);
      operator = await this.#authenticateFrom(req, method, route, source);
      const perMinute = this.d.callsPerMinute ?? 0;
      if (perMinute > 0 && !this.#calls.take(operator.name, perMinute, 60_000, Date.now())) {
        const wait = Math.ceil(this.#calls.waitMs(operator.name, perMinute, 60_000) / 1000);
        throw new ControlError('ALT_RATE_LIMITED', `operator token ${operator.name} made more than ${perMinute} calls in a minute (limits.control_calls_per_minute): retry in ${wait} s`, undefined, wait);
      }
      const matched = this.#routes.match(method, route);
      changesState = matched.changesState;
      const role = roleOf(operator);
      if (!ROLE_PERMISSIONS[role].has(matched.permission)) {
        throw new ControlError('ALT_FORBIDDEN', `the ${role} role does not permit ${method} /api/v1${route} (it needs the ${matched.permission} permission; docs/security.md#roles)`);
      }
      const reply = await matched.handler({ method, params: matched.params, query: url.searchParams, operator,
        body: async () => parseControlJson(bytes, this.d.maxJsonDepth),
        auditTarget: (t) => {
          target = t;
        },
      });
      await audited(reply.status, null);
      if (reply.stream) return await this.#stream(req, res, reply.status, reply.stream);
      send(req, res, reply.status, reply.body);
    } catch (err) {
      const refusal = refusalReply(err);
      await audited(refusal.status, refusal.code).catch(() => {});
      // A reply already under way cannot turn into an error: cut, so it is not taken as complete.
      if (res.headersSent) return void res.destroy();
      // A client gone mid-body, or a connection the listener answered itself (a request timeout), gets nothing more.
      if (!socket.writable) return;
      send(req, res, refusal.status, refusal.body, refusal.headers);
    }
  }

  /** A streamed reply (exports); a client that goes away ends the export instead of leaving it waiting for a drain. */
  async #stream(req: IncomingMessage, res: ServerResponse, status: number, stream: NonNullable<ControlReply['stream']>): Promise<void> {
    res.writeHead(status, replyHeaders(req, stream.contentType));
    await pipeline(Readable.from(stream.chunks), res);
  }
}

/** The request target as a URL; one that is not a URL at all (`http://[x`) is the client's error, not a 500. */
function requestUrl(target: string | undefined): URL {
  try {
    return targetUrl(target ?? '/', 'http://control.invalid');
  } catch {
    throw new ControlError('ALT_INVALID_FIELD', 'the request target is not a valid URL', '(url)');
  }
}

/** `token:` and the first 14 characters of a presented bearer token (altop- and 8 of its random part), or null. */
function tokenPrefix(authorization: string | undefined): string | null {
  const m = /^Bearer\s+(\S{14})/i.exec(authorization ?? '');
  return m ? `token:${m[1]}` : null;
}

/** The status a protocol refusal is answered with (proxy/src/listen/protocol.ts). */
const PROTOCOL_STATUS = { ALT_MALFORMED_HTTP: 400, ALT_HEADERS_TOO_LARGE: 431, ALT_REQUEST_TIMEOUT: 408, ALT_METHOD_NOT_ALLOWED: 405 } as const;
