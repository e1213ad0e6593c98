import type { Permission } from '../services/roles.js';
import type { IncomingMessage } from 'node:http';
import { ControlError, MethodNotAllowed } from '../errors.js';
import { jsonDeeperThan, readBody, tooDeepMessage } from '../../../proxy/src/index.js';
import type { Operator } from '../services/operator.js';

export interface ControlRequest {
  readonly method: string;
  /** Path parameters, decoded (`:id` in the pattern). */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly operator: Operator;
  /** The JSON body; `{}` when there is none. */
  body(): Promise<unknown>;
  /**
   * Names what the call acts on (`agent:b-bot`, `key:key_… agent:b-bot`) for its audit record.
   * Called as soon as the target is known, so a refused call is recorded with it too.
   */
  auditTarget(target: string): void;
}

export interface ControlReply {
  status: number;
  body: unknown;
  /** A streamed reply (exports) instead of a JSON body. */
  stream?: { contentType: string; chunks: AsyncIterable<string> };
}

export type ControlHandler = (r: ControlRequest) => ControlReply | Promise<ControlReply>;

/** A declared route, as the router lists it. */
export interface RouteInfo {
  readonly method: string;
  /** As declared, with `:name` parameters. */
  readonly path: string;
  /**
   * Every method but GET changes state; a GET that does (it writes a checkpoint) says so. A call
   * that changes state is audited durably and must name its target.
   */
  readonly changesState: boolean;
  /** What a caller's role must permit (services/roles.ts). */
  readonly permission: Permission;
}

interface Route extends RouteInfo {
  pattern: RegExp;
  names: string[];
  handler: ControlHandler;
}

/** A path parameter, percent-decoded; malformed encoding is the client's error, named by the parameter. */
export function decodeParam(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ControlError('ALT_INVALID_FIELD', `path parameter ${name} is not valid percent-encoding (UTF-8 bytes as %XX): ${raw.slice(0, 200)}`, name);
  }
}

export const MAX_CONTROL_BODY = 64 * 1024;

/**
 * The whole request body, at most MAX_CONTROL_BODY bytes. Read before any reply, whether the
 * route takes a body or not: a reply sent while the body is still arriving would be followed on
 * the same connection by the listener's own answer when that body stalls (a 408 after a 405 to
 * a HEAD), which a client reads as a corrupt response.
 */
export async function readControlBody(req: IncomingMessage): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  // Past the limit it stops reading without destroying the request, so the 413 can still be sent.
  const read = await readBody(req, MAX_CONTROL_BODY, Number.isFinite(declared) ? declared : null);
  if (read.tooLarge) throw new ControlError('ALT_BODY_TOO_LARGE', `the body exceeds ${MAX_CONTROL_BODY} bytes`, '(body)');
  return read.bytes;
}

/** A control body as JSON; `{}` when there is none. */
export function parseControlJson(bytes: Uint8Array, maxDepth: number): unknown {
  if (bytes.length === 0) return {};
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (jsonDeeperThan(text, maxDepth)) throw new ControlError('ALT_JSON_TOO_DEEP', tooDeepMessage(maxDepth), '(body)');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ControlError('ALT_MALFORMED_JSON', `the body is not valid JSON: ${(err as Error).message}`, '(body)');
  }
}

/** The /api/v1 routes, declared once at start-up by each resource's module. */
export class ControlRoutes {
  readonly #routes: Route[] = [];

  /** A route, with the permission a caller's role must hold (roles.ts): declared, never defaulted. */
  add(method: string, path: string, permission: Permission, handler: ControlHandler, options: { changesState?: boolean } = {}): this {
    const names: string[] = [];
    const source = path.replace(/:([a-z]+)/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    const changesState = method !== 'GET' || options.changesState === true;
    this.#routes.push({ method, path, permission, changesState, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** Every declared route, in declaration order. */
  list(): RouteInfo[] {
    return this.#routes.map(({ method, path, permission, changesState }) => ({ method, path, permission, changesState }));
  }

  /** The handler for a request, or the reason there is none (404 path, 405 method, 400 parameter). */
  match(method: string, path: string): { handler: ControlHandler; params: Record<string, string>; changesState: boolean; permission: Permission } {
    const allowed: string[] = [];
    for (const r of this.#routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      if (r.method !== method) {
        allowed.push(r.method);
        continue;
      }
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = decodeParam(n, m[i + 1]!);
      });
      return { handler: r.handler, params, changesState: r.changesState, permission: r.permission };
    }
    if (allowed.length) throw new MethodNotAllowed(method, `/api/v1${path}`, [...new Set(allowed)]);
    throw new ControlError('ALT_NOT_FOUND', `no such endpoint: ${method} /api/v1${path}`);
  }
}
