import type { ProviderAdapter } from '../adapter.js';
import { AwsEventStreamDecoder } from '../../stream/aws-event-stream.js';
import { parseConverse, parseInvoke } from './parse.js';
import { converseEventRetext, converseEventTerminal, converseEventText, converseResponseText, invokeBodyText, invokeChunkRetext, invokeChunkTerminal, invokeChunkText } from './stream.js';
import { BEDROCK_LONGEST_HONOURED_WAIT_MS, bedrockErrorReply, bedrockStreamError } from './errors.js';
import { converseEventTools, converseResponseTools, invokeBodyTools, invokeChunkTools } from './tools.js';
import { converseEventUsage, converseUsage, invokeChunkUsage, invokeUsage } from '../usage.js';

const STREAMING_ACTIONS = new Set(['converse-stream', 'invoke-with-response-stream']);

export function bedrockAdapter(): ProviderAdapter {
  return {
    kind: 'bedrock',
    parse(match, body) {
      const modelId = match.params.modelId ?? '';
      const stream = STREAMING_ACTIONS.has(match.params.action ?? '');
      return match.operation === 'converse' ? parseConverse(modelId, stream, body) : parseInvoke(modelId, stream, body);
    },
    upstreamRequest: (match) => ({ upstream: 'bedrock', path: match.url.pathname + match.url.search, body: null }),
    decoder: (match) =>
      match.operation === 'converse'
        ? new AwsEventStreamDecoder(converseEventText, converseEventUsage, converseEventTools, converseEventRetext, converseEventTerminal)
        : new AwsEventStreamDecoder(invokeChunkText, invokeChunkUsage, invokeChunkTools, invokeChunkRetext, invokeChunkTerminal),
    responseUsage: (match, body) => (match.operation === 'converse' ? converseUsage(body) : invokeUsage(body)),
    responseText: (match, body) => (match.operation === 'converse' ? converseResponseText(body) : invokeBodyText(body)),
    responseTools: (match, body) => (match.operation === 'converse' ? converseResponseTools(body) : invokeBodyTools(body)),
    errorReply: (info, status, message, _class, _call, retry) => bedrockErrorReply(info, status, message, retry),
    longestHonouredWaitMs: BEDROCK_LONGEST_HONOURED_WAIT_MS,
    streamError: (info, status, message) => bedrockStreamError(info, status, message),
  };
}
