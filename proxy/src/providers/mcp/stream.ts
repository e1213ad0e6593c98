import { isRecord } from '../adapter.js';
import type { CallView } from '../../core/call-view.js';
import { leavesText } from '../../scan/leaves.js';
import type { RpcOutcome } from '../../core/fragment.js';
import type { SseTerminal } from '../../stream/sse.js';
import { requestIds } from './errors.js';
import { rpcKey } from './parse.js';

function messages(body: unknown): unknown[] {
  return Array.isArray(body) ? body : [body];
}

/**
 * The text an MCP server sends toward the agent: every string of results (tool output,
 * resource contents, prompt messages, tool descriptions), of error messages and of the
 * server's own requests and notifications. Content the agent did not write.
 */
export function mcpText(body: unknown): string {
  let text = '';
  for (const m of messages(body)) {
    if (!isRecord(m)) continue;
    const part = leavesText('result' in m ? m.result : 'error' in m ? m.error : m.params);
    if (part) text += (text ? '\n' : '') + part;
  }
  return text;
}

/** The responses (to the agent's requests) a server message or batch carries. */
export function mcpOutcomes(body: unknown): RpcOutcome[] | null {
  let out: RpcOutcome[] | null = null;
  for (const m of messages(body)) {
    if (!isRecord(m) || m.method !== undefined || (typeof m.id !== 'string' && typeof m.id !== 'number')) continue;
    const failed = 'error' in m || (isRecord(m.result) && m.result.isError === true);
    const tools = isRecord(m.result) && Array.isArray(m.result.tools) ? m.result.tools : null;
    (out ??= []).push(tools ? { id: m.id, failed, tools } : { id: m.id, failed });
  }
  return out;
}

/**
 * When a server's event stream is complete: once it has answered each of the agent's requests.
 * A stream whose events carry ids is resumable: its server may end it early and the agent's SDK
 * resumes it (GET with Last-Event-ID). The GET stream answers no request: null, no end to wait for.
 */
export function mcpStreamTerminal(call: CallView | null | undefined): SseTerminal | null {
  const waiting = new Set(requestIds(call).map(rpcKey));
  if (waiting.size === 0) return null;
  return (_event, _data, decoded, id) => {
    if (id !== undefined) return true;
    for (const o of decoded.outcomes ?? []) waiting.delete(rpcKey(o.id));
    return waiting.size === 0;
  };
}
