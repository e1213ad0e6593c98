import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { hashKey, type Chain, type ProxyMetrics } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import { keyView, type KeyService } from '../keys.js';
import type { Store } from '../state/store.js';

export interface ControlDeps {
  chain: Chain;
  keys: KeyService;
  store: Store;
  metrics: ProxyMetrics;
  ready: () => boolean;
}

const MAX_BODY = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_BODY) throw new ControlError('ALT_BODY_TOO_LARGE', 413, `the body exceeds ${MAX_BODY} bytes`, '(body)');
    chunks.push(c as Buffer);
  }
  if (n === 0) return {};
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ControlError('ALT_MALFORMED_JSON', 400, `the body is not valid JSON: ${(err as Error).message}`, '(body)');
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The control API (prefix /api/v1) and the ops endpoints. Every /api call is
 * authenticated with an operator token; state changes are persisted before the reply.
 */
export class ControlServer {
  #server: Server | null = null;

  constructor(private readonly d: ControlDeps) {}

  async listen(host: string, port: number): Promise<number> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.listen(port, host);
    await once(this.#server, 'listening');
    return (this.#server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    if (!this.#server) return;
    this.#server.closeAllConnections();
    this.#server.close();
    await once(this.#server, 'close');
  }

  #authenticate(req: IncomingMessage): { name: string; team: string | null } {
    const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
    if (!m) throw new ControlError('ALT_UNAUTHENTICATED', 401, 'send an operator token: Authorization: Bearer <token>');
    // Looked up by sha256: the token itself is never stored, and the hash leaks nothing to timing.
    const op = this.d.store.findOperatorToken(hashKey(m[1]!));
    if (!op) throw new ControlError('ALT_UNAUTHENTICATED', 401, 'unknown operator token');
    return op;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://control.invalid');
      const method = req.method ?? 'GET';
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (path === '/healthz') return send(res, 200, { status: 'ok' });
      if (path === '/readyz') return send(res, this.d.ready() ? 200 : 503, { status: this.d.ready() ? 'ready' : 'starting' });
      if (path === '/metrics') {
        const text = await this.d.metrics.registry.metrics();
        res.writeHead(200, { 'content-type': this.d.metrics.registry.contentType });
        return void res.end(text);
      }
      if (!path.startsWith('/api/v1/')) throw new ControlError('ALT_NOT_FOUND', 404, `no such endpoint: ${method} ${path}`);
      const operator = this.#authenticate(req);
      const route = path.slice('/api/v1'.length);
      if (route === '/chain' && method === 'GET') return send(res, 200, { stages: this.d.chain.describe() });
      if (route === '/keys' && method === 'GET') {
        const keys = this.d.keys.list().filter((k) => operator.team === null || k.team === operator.team);
        return send(res, 200, { keys: keys.map(keyView) });
      }
      if (route === '/keys' && method === 'POST') {
        const body = await readJson(req);
        if (operator.team !== null && (body as { team?: unknown })?.team !== operator.team) {
          throw new ControlError('ALT_FORBIDDEN', 403, `this token may only issue keys for team ${operator.team}`, 'team');
        }
        const { key, secret } = this.d.keys.create(body);
        return send(res, 201, { key: secret, ...keyView(key) });
      }
      const keyOp = /^\/keys\/([^/]+)(\/rotate)?$/.exec(route);
      if (keyOp) {
        const id = decodeURIComponent(keyOp[1]!);
        const existing = this.d.keys.list().find((k) => k.id === id);
        if (!existing || (operator.team !== null && existing.team !== operator.team)) throw new ControlError('ALT_NOT_FOUND', 404, `no key ${id}`, 'id');
        if (!keyOp[2] && method === 'DELETE') return send(res, 200, keyView(this.d.keys.revoke(id)));
        if (!keyOp[2] && method === 'GET') return send(res, 200, keyView(existing));
        if (keyOp[2] && method === 'POST') {
          const { key, secret } = this.d.keys.rotate(id);
          return send(res, 200, { key: secret, ...keyView(key) });
        }
      }
      throw new ControlError('ALT_NOT_FOUND', 404, `no such endpoint: ${method} ${path}`);
    } catch (err) {
      if (err instanceof ControlError) {
        return send(res, err.status, { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } });
      }
      send(res, 500, { error: { code: 'ALT_INTERNAL', message: (err as Error).message } });
    }
  }
}
