import type { ProviderAdapter, RouteMatch } from '../adapter.js';
import { SseDecoder } from '../../stream/sse.js';
import { parseOpenAi } from './parse.js';
import { chatChunkText, chatCompletionText, responseObjectText, responsesEventText } from './stream.js';
import { openAiErrorReply, openAiStreamError } from './errors.js';

/** Picks the named upstream that serves a model: a self-hosted OpenAI-compatible server, or OpenAI. */
export type ModelRouter = (model: string | null) => string;

export function openAiAdapter(route: ModelRouter): ProviderAdapter {
  return {
    kind: 'openai',
    parse(match, body) {
      const call = parseOpenAi('openai', 'openai', match.operation, body);
      if (typeof call !== 'string') call.upstream = route(call.model);
      return call;
    },
    upstreamRequest(match: RouteMatch, call) {
      // Upstream base URLs carry their own /v1 (SDK convention), so the client's /v1 is dropped.
      return { upstream: call.upstream, path: match.url.pathname.replace(/^\/v1/, '') + match.url.search, body: null };
    },
    decoder(match) {
      return new SseDecoder(match.operation === 'responses' ? responsesEventText : chatChunkText);
    },
    responseText(match, body) {
      if (match.operation === 'chat') return chatCompletionText(body);
      if (match.operation === 'responses') return responseObjectText(body);
      return '';
    },
    errorReply: (info, status, message, errorClass) => openAiErrorReply(info, status, message, errorClass),
    streamError: (info, _status, message, errorClass, match) => openAiStreamError(info, message, errorClass, match.operation === 'responses'),
  };
}
