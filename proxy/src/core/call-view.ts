// The provider-neutral view of one call: what every stage reads, whatever the wire format.

export type ProviderKind = 'openai' | 'anthropic' | 'gemini' | 'azure' | 'bedrock' | 'mcp';

export type Operation =
  | 'chat'
  | 'responses'
  | 'embeddings'
  | 'models'
  | 'messages'
  | 'count_tokens'
  | 'generate'
  | 'converse'
  | 'invoke'
  /** A JSON-RPC exchange with an MCP server (streamable HTTP). */
  | 'mcp';

export interface ToolCall {
  id?: string;
  name: string;
  /** Arguments as the provider sent them (JSON text or object). */
  arguments: unknown;
}

export interface ToolResult {
  id?: string;
  name?: string;
  content: string;
  /** The tool reported failure (Anthropic is_error, Bedrock status "error"): not evidence that it returned. */
  error?: boolean;
}

export interface MessageView {
  role: string;
  text: string;
  toolCalls: ToolCall[];
  toolResults: ToolResult[];
}

export interface CallView {
  provider: ProviderKind;
  /** The named upstream that serves the call (e.g. "openai", or a self-hosted "vllm"). */
  upstream: string;
  operation: Operation;
  model: string | null;
  messages: MessageView[];
  system: string;
  /** Declared tools, with their parameter schema where the request gives one. */
  tools: { name: string; schema?: unknown }[];
  toolCalls: ToolCall[];
  toolResults: ToolResult[];
  maxTokens: number | null;
  stream: boolean;
  /**
   * Set for an MCP request: the server and the JSON-RPC messages it carries. Its `toolCalls`
   * are the `tools/call` requests being made now, not calls in a model's history.
   */
  mcp?: McpExchange;
}

export type RpcId = string | number;

export interface McpExchange {
  /** The server name of `/mcp/{server}`. */
  server: string;
  /** The body was a JSON-RPC batch (an array): errors answer it with an array too. */
  batch: boolean;
  /** Each JSON-RPC message of the body: a request (id and method), a notification (method), a response (id). */
  messages: { id: RpcId | null; method: string | null }[];
}

export function emptyCall(provider: ProviderKind, upstream: string, operation: Operation): CallView {
  return {
    provider,
    upstream,
    operation,
    model: null,
    messages: [],
    system: '',
    tools: [],
    toolCalls: [],
    toolResults: [],
    maxTokens: null,
    stream: false,
  };
}

/** Collects tool calls and results of all messages onto the call, once. */
export function gatherTools(call: CallView): CallView {
  for (const m of call.messages) {
    for (const c of m.toolCalls) call.toolCalls.push(c);
    for (const r of m.toolResults) call.toolResults.push(r);
  }
  return call;
}

/**
 * The tool calls of a request's history that returned: each successful result paired with the
 * call it answers (by call id; by name where the provider gives no id, as Gemini may).
 */
export function returnedToolCalls(call: CallView): { call: ToolCall; result: ToolResult }[] {
  if (call.toolResults.length === 0) return [];
  const byId = new Map<string, ToolCall>();
  const lastByName = new Map<string, ToolCall>();
  for (const c of call.toolCalls) {
    if (c.id) byId.set(c.id, c);
    lastByName.set(c.name, c);
  }
  const out: { call: ToolCall; result: ToolResult }[] = [];
  for (const r of call.toolResults) {
    if (r.error) continue;
    const c = (r.id ? byId.get(r.id) : undefined) ?? (r.name ? lastByName.get(r.name) : undefined);
    if (c) out.push({ call: c, result: r });
  }
  return out;
}
