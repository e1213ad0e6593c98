// What the response side inspects: one piece of a response, with the tool-call pieces and
// JSON-RPC outcomes it carries. Decoders produce it, stages and scanners read it.
import type { Verdict } from './verdict.js';

/**
 * A piece of a tool call the model is making, as one event carries it. `key` tells calls
 * of one response apart; a key ending in `*` completes every call whose key starts with
 * what precedes it (OpenAI's finish_reason ends all calls of a choice at once).
 */
export interface ToolDelta {
  key: string;
  id?: string;
  /** Present on the event that introduces the call. */
  name?: string;
  /** A piece of the arguments' JSON text (OpenAI, Anthropic and Bedrock stream them). */
  args?: string;
  /** The whole arguments object, where the provider sends it at once (Gemini, whole bodies). */
  input?: unknown;
  /** The call's arguments are complete. */
  done?: boolean;
}

/** A JSON-RPC response an MCP server sent: the request it answers, and whether it failed. */
export interface RpcOutcome {
  id: string | number;
  /** A JSON-RPC error, or a tool result with `isError: true`: not evidence that the tool returned. */
  failed: boolean;
  /** The tools a `tools/list` answer offers, as the server sent them (MCP tool pinning reads them). */
  tools?: readonly unknown[];
}

/** A piece of a response as the response side sees it: the text in it, never stored. */
export interface Fragment {
  /** Text the model produced in this fragment (content deltas, tool-call arguments). */
  text: string;
  /** Pieces of the tool calls the model makes in this fragment. */
  tools?: readonly ToolDelta[] | null;
  /** Position in the response, from 0 (set by the relay; a whole body is fragment 0). */
  seq?: number;
  /** JSON-RPC responses in this fragment (MCP): the requests they answer, and which failed. */
  outcomes?: readonly RpcOutcome[] | null;
  /**
   * A whole (non-streamed) response: its parsed body, which a redacting stage may change in
   * place (setting `rewritten`); the proxy then sends the rewritten body.
   */
  body?: { json: unknown; rewritten: boolean };
  /**
   * Set by a redacting stage on a streamed fragment it holds back: the text to deliver instead.
   * The relay re-serialises the event in its provider's format, or cuts with the verdict when
   * the format does not allow it.
   */
  redaction?: { text: string; verdict: Verdict } | undefined;
}
