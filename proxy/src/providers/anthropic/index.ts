import type { ProviderAdapter } from '../adapter.js';
import { SseDecoder } from '../../stream/sse.js';
import { parseAnthropic } from './parse.js';
import { anthropicEventRetext, anthropicEventTerminal, anthropicEventText, anthropicMessageText } from './stream.js';
import { anthropicErrorReply, anthropicStreamError } from './errors.js';
import { anthropicUsage } from '../usage.js';
import { anthropicEventTools, anthropicMessageTools } from './tools.js';

export function anthropicAdapter(): ProviderAdapter {
  return {
    kind: 'anthropic',
    parse: (match, body) => parseAnthropic('anthropic', 'anthropic', match.operation, body),
    upstreamRequest: (match) => ({ upstream: 'anthropic', path: match.url.pathname + match.url.search, body: null }),
    decoder: () => new SseDecoder(anthropicEventText, anthropicUsage, anthropicEventTools, null, anthropicEventRetext, anthropicEventTerminal),
    responseTools: (match, body) => (match.operation === 'messages' ? anthropicMessageTools(body) : []),
    responseUsage: (_match, body) => anthropicUsage(body),
    responseText: (match, body) => (match.operation === 'messages' ? anthropicMessageText(body) : ''),
    errorReply: (info, status, message, errorClass) => anthropicErrorReply(info, status, message, errorClass),
    streamError: (info, _status, message, errorClass) => anthropicStreamError(info, message, errorClass),
  };
}
