import type { ProviderAdapter, RouteMatch } from '../adapter.js';
import { formatSse, SseDecoder } from '../../stream/sse.js';
import { parseGemini } from './parse.js';
import { geminiEventRetext, geminiEventTerminal, geminiEventText, geminiResponseText, JsonArrayFramer } from './stream.js';
import { geminiErrorBody, geminiErrorReply } from './errors.js';
import { geminiUsage } from '../usage.js';
import { geminiEventTools, geminiResponseTools } from './tools.js';

function wantsSse(match: RouteMatch): boolean {
  return match.url.searchParams.get('alt') === 'sse';
}

export function geminiAdapter(): ProviderAdapter {
  return {
    kind: 'gemini',
    parse: (match, body) => parseGemini(match.params.model ?? '', match.params.action ?? '', body),
    upstreamRequest(match) {
      const q = new URLSearchParams(match.url.searchParams);
      q.delete('key'); // the client's virtual key never leaves; the credential lane adds the real one
      if (match.params.action === 'streamGenerateContent') q.set('alt', 'sse');
      const qs = q.toString();
      return { upstream: 'gemini', path: match.url.pathname + (qs ? `?${qs}` : ''), body: null };
    },
    decoder(match) {
      const sse = new SseDecoder(geminiEventText, geminiUsage, geminiEventTools, null, geminiEventRetext, geminiEventTerminal);
      return wantsSse(match) ? sse : new JsonArrayFramer(sse, geminiEventRetext);
    },
    responseContentType: (match) => (wantsSse(match) ? 'text/event-stream' : 'application/json'),
    responseText: (_match, body) => geminiResponseText(body),
    responseTools: (_match, body) => geminiResponseTools(body),
    responseUsage: (_match, body) => geminiUsage(body),
    errorReply: (info, status, message, _class, _call, retry) => geminiErrorReply(info, status, message, retry),
    streamError(info, status, message, _class, match, deliveredAny) {
      const json = JSON.stringify(geminiErrorBody(info, status, message));
      if (wantsSse(match)) return formatSse(undefined, json);
      return (deliveredAny ? ',\r\n' : '[') + json + ']';
    },
  };
}
