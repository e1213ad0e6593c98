import type { Dispatcher } from 'undici';
import { isRecord, num } from '../providers/adapter.js';
import type { CallView } from '../core/call-view.js';
import { injectCredential } from '../upstream/auth.js';
import type { CredentialSource } from '../upstream/credential.js';
import { upstreamUrl, type Upstream } from '../upstream/upstreams.js';

// Exact input counts from the provider's own tokenizer, for families with no offline one:
// Anthropic's /v1/messages/count_tokens, Gemini's :countTokens and Bedrock's CountTokens are
// free and answer with the count the request will be billed for. Asked only when the byte bound does not fit a
// budget; any failure keeps the bound (which never under-counts).

interface CountCall {
  path: string;
  body: Record<string, unknown>;
  headers: Record<string, string>;
  read: (json: unknown) => number | null;
}

const ANTHROPIC_COUNT_FIELDS = ['model', 'messages', 'system', 'tools', 'tool_choice', 'thinking'];
const GEMINI_COUNT_FIELDS = ['contents', 'systemInstruction', 'tools', 'toolConfig'];
const BEDROCK_CONVERSE_FIELDS = ['messages', 'system', 'toolConfig'];

function pick(body: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) if (body[f] !== undefined) out[f] = body[f];
  return out;
}

function countCall(call: CallView, body: unknown, headers: Record<string, string | string[] | undefined>): CountCall | null {
  if (!isRecord(body) || !call.model) return null;
  if (call.provider === 'anthropic' && call.operation === 'messages') {
    const version = headers['anthropic-version'];
    return {
      path: '/v1/messages/count_tokens',
      body: pick(body, ANTHROPIC_COUNT_FIELDS),
      headers: { 'anthropic-version': typeof version === 'string' ? version : '2023-06-01' },
      read: (j) => (isRecord(j) ? num(j.input_tokens) : null),
    };
  }
  if (call.provider === 'bedrock') {
    // Bedrock's CountTokens takes the Converse fields, or the InvokeModel body as sent.
    const input = call.operation === 'converse' ? { converse: pick(body, BEDROCK_CONVERSE_FIELDS) } : { invokeModel: { body: JSON.stringify(body) } };
    return {
      path: `/model/${encodeURIComponent(call.model)}/count-tokens`,
      body: { input },
      headers: {},
      read: (j) => (isRecord(j) ? num(j.inputTokens) : null),
    };
  }
  if (call.provider === 'gemini' && call.operation === 'generate') {
    return {
      path: `/v1beta/models/${encodeURIComponent(call.model)}:countTokens`,
      body: { generateContentRequest: { model: `models/${call.model}`, ...pick(body, GEMINI_COUNT_FIELDS) } },
      headers: {},
      read: (j) => (isRecord(j) ? num(j.totalTokens) : null),
    };
  }
  return null;
}

export type ProviderTokenCount = (call: CallView, body: unknown, headers: Record<string, string | string[] | undefined>) => Promise<number | null>;

export function providerTokenCounter(upstreams: ReadonlyMap<string, Upstream>, credentials: CredentialSource, dispatcher: Dispatcher, timeoutMs: number): ProviderTokenCount {
  return async (call, body, requestHeaders) => {
    const spec = countCall(call, body, requestHeaders);
    const upstream = upstreams.get(call.upstream);
    if (!spec || !upstream) return null;
    try {
      const credential = await credentials.get(upstream.name);
      if (!credential) return null;
      const url = upstreamUrl(upstream, spec.path);
      const bytes = Buffer.from(JSON.stringify(spec.body));
      const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(bytes.length), ...spec.headers };
      await injectCredential(upstream, credential, url, 'POST', headers, bytes);
      const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body: bytes, signal: AbortSignal.timeout(timeoutMs) });
      if (res.statusCode !== 200) {
        await res.body.dump();
        return null;
      }
      return spec.read(await res.body.json());
    } catch {
      return null;
    }
  };
}
