import { isRecord } from '../adapter.js';
import { emptyCall, type CallView, type McpExchange, type RpcId } from '../../core/call-view.js';

/** A JSON-RPC id as a tool call's id: typed, so that 1 and "1" stay two requests. */
export function rpcKey(id: RpcId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/** The upstream name of an MCP server: contracts and the policy list it as a destination. */
export function mcpUpstream(server: string): string {
  return `mcp:${server}`;
}

function rpcId(v: unknown): RpcId | null | undefined {
  if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return v;
  return v === null ? null : undefined;
}

/**
 * One JSON-RPC 2.0 message as MCP's streamable HTTP transport carries it: a request (id and
 * method), a notification (method) or a response to a server's request (id with result or
 * error). Returns a message naming the field that is wrong.
 */
function readMessage(m: unknown, at: string, call: CallView, exchange: McpExchange): string | null {
  if (!isRecord(m)) return `${at} must be a JSON-RPC message object`;
  if (m.jsonrpc !== '2.0') return `${at}.jsonrpc must be "2.0"`;
  const id = rpcId(m.id);
  if ('id' in m && id === undefined) return `${at}.id must be a string or a number`;
  if (m.method === undefined) {
    if (id === undefined || id === null) return `${at} has neither method nor id`;
    if (!('result' in m) && !('error' in m)) return `${at} is a response without result or error`;
    exchange.messages.push({ id, method: null });
    return null;
  }
  if (typeof m.method !== 'string' || m.method === '') return `${at}.method must be a non-empty string`;
  if (m.params !== undefined && !isRecord(m.params) && !Array.isArray(m.params)) return `${at}.params must be an object or an array`;
  if (id !== undefined && id !== null && exchange.messages.some((x) => x.method !== null && x.id !== null && rpcKey(x.id) === rpcKey(id))) {
    return `${at}.id ${JSON.stringify(id)} is already used by another request of the batch`;
  }
  exchange.messages.push({ id: id ?? null, method: m.method });
  if (m.method === 'tools/call') {
    if (id === undefined || id === null) return `${at}: tools/call is a request and needs an id`;
    const params = isRecord(m.params) ? m.params : null;
    if (!params || typeof params.name !== 'string' || params.name === '') return `${at}.params.name must name the tool`;
    if (params.arguments !== undefined && !isRecord(params.arguments)) return `${at}.params.arguments must be an object`;
    call.toolCalls.push({ id: rpcKey(id), name: params.name, arguments: params.arguments ?? {} });
  }
  return null;
}

/**
 * An MCP request (`/mcp/{server}`) as a CallView: no model, the server as the upstream, and
 * every `tools/call` in it as a tool call made now. A POST carries one message or a batch;
 * GET (the server's event stream) and DELETE (end of session) carry none.
 */
export function parseMcp(server: string, body: unknown): CallView | string {
  const call = emptyCall('mcp', mcpUpstream(server), 'mcp');
  const exchange: McpExchange = { server, batch: Array.isArray(body), messages: [] };
  call.mcp = exchange;
  if (body === undefined) return call;
  if (Array.isArray(body)) {
    if (body.length === 0) return 'the JSON-RPC batch is empty';
    for (let i = 0; i < body.length; i++) {
      const wrong = readMessage(body[i], `[${i}]`, call, exchange);
      if (wrong) return wrong;
    }
  } else {
    const wrong = readMessage(body, 'body', call, exchange);
    if (wrong) return wrong;
  }
  call.stream = false;
  return call;
}

/**
 * What an MCP request did, for the audit record and the decision line: its JSON-RPC methods,
 * with the tool named for a `tools/call` (`tools/call:lookup_order`). Never arguments.
 */
export function mcpOperation(call: CallView): string {
  const names = call.toolCalls.map((c) => c.name);
  let tool = 0;
  const ops = call.mcp!.messages.map((m) => (m.method === 'tools/call' ? `tools/call:${names[tool++]}` : (m.method ?? 'response')));
  const text = ops.length ? ops.join(',') : 'stream';
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
