import type { Operation } from '../core/call-view.js';
import type { ProviderAdapter, RouteMatch } from './adapter.js';

export interface Adapters {
  mcp: ProviderAdapter;
  openai: ProviderAdapter;
  anthropic: ProviderAdapter;
  gemini: ProviderAdapter;
  azure: ProviderAdapter;
  bedrock: ProviderAdapter;
}

interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  path: string | RegExp;
  adapter: keyof Adapters;
  operation: Operation | ((groups: Record<string, string>) => Operation);
}

const MCP_PATH = /^\/mcp\/(?<server>[A-Za-z0-9][A-Za-z0-9._-]{0,63})$/;

// Order matters only among the patterns: Gemini's `/v1/models/{m}:action` before OpenAI's `/v1/models/{id}`.
const ROUTES: RouteDef[] = [
  { method: 'POST', path: '/v1/chat/completions', adapter: 'openai', operation: 'chat' },
  { method: 'POST', path: '/v1/responses', adapter: 'openai', operation: 'responses' },
  { method: 'POST', path: '/v1/embeddings', adapter: 'openai', operation: 'embeddings' },
  { method: 'GET', path: '/v1/models', adapter: 'openai', operation: 'models' },
  { method: 'POST', path: '/v1/messages', adapter: 'anthropic', operation: 'messages' },
  { method: 'POST', path: '/v1/messages/count_tokens', adapter: 'anthropic', operation: 'count_tokens' },
  {
    method: 'POST',
    path: /^\/(?:v1beta|v1)\/models\/(?<model>[^/:]+):(?<action>generateContent|streamGenerateContent|countTokens)$/,
    adapter: 'gemini',
    operation: (g) => (g.action === 'countTokens' ? 'count_tokens' : 'generate'),
  },
  { method: 'GET', path: /^\/v1\/models\/(?<model>.+)$/, adapter: 'openai', operation: 'models' },
  {
    method: 'POST',
    path: /^\/openai\/deployments\/(?<deployment>[^/]+)\/(?<action>chat\/completions|embeddings)$/,
    adapter: 'azure',
    operation: (g) => (g.action === 'embeddings' ? 'embeddings' : 'chat'),
  },
  {
    method: 'POST',
    path: /^\/model\/(?<modelId>[^/]+)\/(?<action>converse|converse-stream|invoke|invoke-with-response-stream)$/,
    adapter: 'bedrock',
    operation: (g) => (g.action!.startsWith('converse') ? 'converse' : 'invoke'),
  },
  // Streamable HTTP: POST sends messages, GET opens the server's event stream, DELETE ends a session.
  ...(['POST', 'GET', 'DELETE'] as const).map((method): RouteDef => ({ method, path: MCP_PATH, adapter: 'mcp', operation: 'mcp' })),
];

export interface Routed {
  match: RouteMatch | null;
  /** The path is served, whatever the method. */
  known: boolean;
}

function decode(groups: Record<string, string> | undefined): Record<string, string> | null {
  const out: Record<string, string> = {};
  try {
    for (const [k, v] of Object.entries(groups ?? {})) out[k] = decodeURIComponent(v);
  } catch {
    return null;
  }
  return out;
}

/** The route table, compiled once: exact paths in a map, patterns tried in order. */
export class Router {
  readonly #exact = new Map<string, RouteDef[]>();
  readonly #patterns: RouteDef[] = [];
  readonly #adapters: Adapters;

  constructor(adapters: Adapters) {
    this.#adapters = adapters;
    for (const r of ROUTES) {
      if (typeof r.path === 'string') this.#exact.set(r.path, [...(this.#exact.get(r.path) ?? []), r]);
      else this.#patterns.push(r);
    }
  }

  route(method: string, url: URL): Routed {
    const path = url.pathname;
    const candidates: { def: RouteDef; groups: Record<string, string> }[] = [];
    const exact = this.#exact.get(path);
    if (exact) for (const def of exact) candidates.push({ def, groups: {} });
    else {
      for (const def of this.#patterns) {
        const m = (def.path as RegExp).exec(path);
        if (!m) continue;
        const groups = decode(m.groups);
        if (groups) candidates.push({ def, groups });
      }
    }
    if (candidates.length === 0) return { match: null, known: false };
    const hit = candidates.find((c) => c.def.method === method);
    if (!hit) return { match: null, known: true };
    const op = typeof hit.def.operation === 'function' ? hit.def.operation(hit.groups) : hit.def.operation;
    return { match: { adapter: this.#adapters[hit.def.adapter], operation: op, params: hit.groups, url }, known: true };
  }
}
