import { isRecord } from '../adapter.js';
import { stringLeaves } from '../../scan/leaves.js';
import type { RpcOutcome } from '../../stream/decoder.js';

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
    const parts = 'result' in m ? m.result : 'error' in m ? m.error : m.params;
    for (const leaf of stringLeaves(parts)) text += (text ? '\n' : '') + leaf.text;
  }
  return text;
}

/** The responses (to the agent's requests) a server message or batch carries. */
export function mcpOutcomes(body: unknown): RpcOutcome[] | null {
  let out: RpcOutcome[] | null = null;
  for (const m of messages(body)) {
    if (!isRecord(m) || m.method !== undefined || (typeof m.id !== 'string' && typeof m.id !== 'number')) continue;
    const failed = 'error' in m || (isRecord(m.result) && m.result.isError === true);
    (out ??= []).push({ id: m.id, failed });
  }
  return out;
}
