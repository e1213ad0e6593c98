import type { ProviderAdapter } from '../adapter.js';
import { SseDecoder } from '../../stream/sse.js';
import { parseOpenAi } from '../openai/parse.js';
import { chatChunkRetext, chatChunkTerminal, chatChunkText, chatCompletionText } from '../openai/stream.js';
import { openAiErrorReply, openAiStreamError } from '../openai/errors.js';
import { openaiUsage } from '../usage.js';
import { chatChunkTools, chatCompletionTools } from '../openai/tools.js';

/**
 * Azure OpenAI speaks OpenAI's wire format at deployment paths; the deployment is the
 * model identity that scope and catalog checks see.
 */
export function azureAdapter(): ProviderAdapter {
  return {
    kind: 'azure',
    parse(match, body) {
      return parseOpenAi('azure', 'azure', match.operation, body, match.params.deployment);
    },
    upstreamRequest(match) {
      return { upstream: 'azure', path: match.url.pathname + match.url.search, body: null };
    },
    decoder: () => new SseDecoder(chatChunkText, openaiUsage, chatChunkTools, null, chatChunkRetext, chatChunkTerminal),
    responseTools: (match, body) => (match.operation === 'chat' ? chatCompletionTools(body) : []),
    responseUsage: (_match, body) => openaiUsage(body),
    responseText: (match, body) => (match.operation === 'chat' ? chatCompletionText(body) : ''),
    errorReply: (info, status, message, errorClass) => openAiErrorReply(info, status, message, errorClass),
    streamError: (info, _status, message, errorClass) => openAiStreamError(info, message, errorClass, false),
  };
}
