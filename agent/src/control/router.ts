import type { IncomingMessage } from 'node:http';
import { ControlError } from '../errors.js';
import { jsonDeeperThan, tooDeepMessage } from '../../../proxy/src/index.js';
import type { OperatorToken } from '../state/store.js';

export type Operator = Pick<OperatorToken, 'name' | 'team'>;

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

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: ControlHandler;
}

export const MAX_CONTROL_BODY = 64 * 1024;

export async function readJson(req: IncomingMessage, maxDepth: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > MAX_CONTROL_BODY) throw new ControlError('ALT_BODY_TOO_LARGE', 413, `the body exceeds ${MAX_CONTROL_BODY} bytes`, '(body)');
    chunks.push(c as Buffer);
  }
  if (n === 0) return {};
  const text = Buffer.concat(chunks).toString('utf8');
  if (jsonDeeperThan(text, maxDepth)) throw new ControlError('ALT_JSON_TOO_DEEP', 400, tooDeepMessage(maxDepth), '(body)');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new ControlError('ALT_MALFORMED_JSON', 400, `the body is not valid JSON: ${(err as Error).message}`, '(body)');
  }
}

/** The /api/v1 routes, declared once at start-up by each resource's module. */
export class ControlRoutes {
  readonly #routes: Route[] = [];

  add(method: string, path: string, handler: ControlHandler): this {
    const names: string[] = [];
    const source = path.replace(/:([a-z]+)/g, (_m, name: string) => {
      names.push(name);
      return '([^/]+)';
    });
    this.#routes.push({ method, pattern: new RegExp(`^${source}$`), names, handler });
    return this;
  }

  /** The handler for a request, or the reason there is none (404 path, 405 method). */
  match(method: string, path: string): { handler: ControlHandler; params: Record<string, string> } {
    let pathKnown = false;
    for (const r of this.#routes) {
      const m = r.pattern.exec(path);
      if (!m) continue;
      pathKnown = true;
      if (r.method !== method) continue;
      const params: Record<string, string> = {};
      r.names.forEach((n, i) => {
        params[n] = decodeURIComponent(m[i + 1]!);
      });
      return { handler: r.handler, params };
    }
    if (pathKnown) throw new ControlError('ALT_METHOD_NOT_ALLOWED', 405, `${method} is not supported on ${path}`);
    throw new ControlError('ALT_NOT_FOUND', 404, `no such endpoint: ${method} /api/v1${path}`);
  }
}
