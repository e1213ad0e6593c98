import { isRecord, type ProviderAdapter, type RouteMatch } from '../adapter.js';
import { SseDecoder } from '../../stream/sse.js';
import { parseOpenAi } from './parse.js';
import { chatChunkRetext, chatChunkTerminal, chatChunkText, chatCompletionText, responseObjectText, responsesEventTerminal, responsesEventText } from './stream.js';
import { openAiErrorReply, openAiStreamError } from './errors.js';
import { openaiUsage } from '../usage.js';
import { chatChunkTools, chatCompletionTools, responseObjectTools, responsesEventTools } from './tools.js';

/** Picks the named upstream that serves a model: a self-hosted OpenAI-compatible server, or OpenAI. */
function wantsUsage(body: Record<string, unknown>): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true;
}

export type ModelRouter = (model: string | null) => string;

export function openAiAdapter(route: ModelRouter): ProviderAdapter {
  return {
    kind: 'openai',
    parse(match, body) {
      const call = parseOpenAi('openai', 'openai', match.operation, body);
      if (typeof call !== 'string') call.upstream = route(call.model);
      return call;
    },
    upstreamRequest(match: RouteMatch, call, body) {
      // Upstream base URLs carry their own /v1 (SDK convention), so the client's /v1 is dropped.
      const path = match.url.pathname.replace(/^\/v1/, '') + match.url.search;
      // Settlement needs the usage OpenAI only reports on streams when asked; self-hosted
      // servers may refuse the option, so there the delivered text is counted instead.
      if (call.upstream === 'openai' && match.operation === 'chat' && call.stream && isRecord(body) && !wantsUsage(body)) {
        const stream_options = { ...(isRecord(body.stream_options) ? body.stream_options : {}), include_usage: true };
        return { upstream: call.upstream, path, body: Buffer.from(JSON.stringify({ ...body, stream_options })), usageRequested: true };
      }
      return { upstream: call.upstream, path, body: null };
    },
    // Responses streams are not masked in place: their closing events (output_text.done,
    // response.completed) repeat the whole text, so a redaction there cuts the stream.
    decoder(match) {
      return match.operation === 'responses'
        ? new SseDecoder(responsesEventText, openaiUsage, responsesEventTools, null, null, responsesEventTerminal)
        : new SseDecoder(chatChunkText, openaiUsage, chatChunkTools, null, chatChunkRetext, chatChunkTerminal);
    },
    responseUsage: (_match, body) => openaiUsage(body),
    responseText(match, body) {
      if (match.operation === 'chat') return chatCompletionText(body);
      if (match.operation === 'responses') return responseObjectText(body);
      return '';
    },
    responseTools(match, body) {
      if (match.operation === 'chat') return chatCompletionTools(body);
      if (match.operation === 'responses') return responseObjectTools(body);
      return [];
    },
    errorReply: (info, status, message, errorClass) => openAiErrorReply(info, status, message, errorClass),
    streamError: (info, _status, message, errorClass, match) => openAiStreamError(info, message, errorClass, match.operation === 'responses'),
  };
}
