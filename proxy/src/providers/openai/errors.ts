import type { AltraceErrorInfo, ErrorReply } from '../adapter.js';
import { formatSse } from '../../stream/sse.js';

const types: Record<string, string> = {
  invalid_request: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'invalid_request_error',
  unsupported_media: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  rate_limit: 'rate_limit_error',
};

function errorObject(info: AltraceErrorInfo, message: string, errorClass: string) {
  return { message, type: types[errorClass] ?? 'server_error', param: null, code: info.reason, altrace: info };
}

/** OpenAI's error body: {"error": {message, type, param, code}}, with the altrace object inside. */
export function openAiErrorReply(info: AltraceErrorInfo, status: number, message: string, errorClass: string): ErrorReply {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ error: errorObject(info, message, errorClass) }),
  };
}

/** Chat completions end a stream with a data event carrying `error`; the Responses API with an `error` event. */
export function openAiStreamError(info: AltraceErrorInfo, message: string, errorClass: string, responsesApi: boolean): string {
  if (responsesApi) {
    return formatSse('error', JSON.stringify({ type: 'error', code: info.reason, message, param: null, altrace: info }));
  }
  return formatSse(undefined, JSON.stringify({ error: errorObject(info, message, errorClass) }));
}
