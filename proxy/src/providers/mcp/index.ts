import type { ProviderAdapter } from '../adapter.js';
import { SseDecoder } from '../../stream/sse.js';
import { mcpErrorReply, mcpStreamError } from './errors.js';
import { mcpUpstream, parseMcp } from './parse.js';
import { mcpOutcomes, mcpStreamTerminal, mcpText } from './stream.js';

/**
 * MCP servers over streamable HTTP (`/mcp/{server}`): JSON-RPC messages in, a JSON body or an
 * event stream of JSON-RPC messages out. Tool calls are governed like a model's, their
 * results scanned as content the agent did not write.
 */
export function mcpAdapter(): ProviderAdapter {
  return {
    kind: 'mcp',
    parse: (match, body) => parseMcp(match.params.server!, body),
    // The server's configured URL is its endpoint: only the query travels.
    upstreamRequest: (match) => ({ upstream: mcpUpstream(match.params.server!), path: match.url.search, body: null }),
    decoder: (_match, call) => new SseDecoder((_event, data) => mcpText(data), null, null, mcpOutcomes, null, mcpStreamTerminal(call)),
    responseText: (_match, body) => mcpText(body),
    responseTools: () => [],
    responseUsage: () => null,
    responseOutcomes: (_match, body) => mcpOutcomes(body),
    errorReply: (info, status, message, errorClass, call) => mcpErrorReply(info, status, message, errorClass, call),
    streamError: (info, status, message, errorClass, _match, _delivered, call, answered) => mcpStreamError(info, status, message, errorClass, call, answered),
  };
}
