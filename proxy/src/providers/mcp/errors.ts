import type { AltraceErrorInfo, ErrorReply } from '../adapter.js';
import type { CallView, RpcId } from '../../core/call-view.js';
import { formatSse } from '../../stream/sse.js';

// JSON-RPC's own codes for a body that is not JSON or not a valid request; implementation-defined
// server codes otherwise. -32000 and -32001 are avoided: the MCP SDKs read them as connection
// closed and request timeout.
const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const INTERNAL_ERROR = -32603;
/** Refused by governance (policy, contract, kill switch, budget, approval); `data.altrace` says why. */
export const GOVERNANCE_REFUSED = -32010;

function codeFor(info: AltraceErrorInfo, errorClass: string): number {
  if (info.reason === 'ALT_MALFORMED_JSON') return PARSE_ERROR;
  if (errorClass === 'invalid_request' || errorClass === 'too_large' || errorClass === 'unsupported_media' || errorClass === 'method_not_allowed' || errorClass === 'not_found') return INVALID_REQUEST;
  if (errorClass === 'internal' || errorClass === 'bad_gateway' || errorClass === 'unavailable' || errorClass === 'gateway_timeout') return INTERNAL_ERROR;
  return GOVERNANCE_REFUSED;
}

/** The ids of the requests (not notifications or responses) in the agent's message or batch. */
export function requestIds(call: CallView | null | undefined): RpcId[] {
  const out: RpcId[] = [];
  for (const m of call?.mcp?.messages ?? []) if (m.method !== null && m.id !== null) out.push(m.id);
  return out;
}

function errorMessage(id: RpcId | null, info: AltraceErrorInfo, status: number, message: string, errorClass: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, error: { code: codeFor(info, errorClass), message, data: { status, altrace: info } } });
}

/**
 * A JSON-RPC error response answering the agent's request, with `data.altrace`; for a batch,
 * an array with an error for each of its requests.
 */
export function mcpErrorReply(info: AltraceErrorInfo, status: number, message: string, errorClass: string, call?: CallView | null): ErrorReply {
  const ids = requestIds(call);
  const body = call?.mcp?.batch && ids.length > 0 ? `[${ids.map((id) => errorMessage(id, info, status, message, errorClass)).join(',')}]` : errorMessage(ids[0] ?? null, info, status, message, errorClass);
  return { status, headers: { 'content-type': 'application/json' }, body };
}

/**
 * Ends a server's event stream under way: an error response for each request the stream
 * answers and has not answered yet (`answered`: the ids whose response was already delivered;
 * JSON-RPC answers each request once), so the agent's SDK fails those requests at once. On
 * the GET stream (no request), or when every request already has its answer, a logging
 * notification at level error says why the stream ended.
 */
export function mcpStreamError(info: AltraceErrorInfo, status: number, message: string, errorClass: string, call?: CallView | null, answered?: readonly RpcId[] | null): string {
  const ids = requestIds(call).filter((id) => !answered?.includes(id));
  if (ids.length === 0) {
    return formatSse('message', JSON.stringify({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'error', logger: 'altrace', data: { message, altrace: info } } }));
  }
  return ids.map((id) => formatSse('message', errorMessage(id, info, status, message, errorClass))).join('');
}
