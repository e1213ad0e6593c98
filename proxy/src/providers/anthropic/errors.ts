import type { AltraceErrorInfo, ErrorReply } from '../adapter.js';
import { formatSse } from '../../stream/sse.js';

const types: Record<string, string> = {
  invalid_request: 'invalid_request_error',
  unsupported_media: 'invalid_request_error',
  method_not_allowed: 'invalid_request_error',
  authentication: 'authentication_error',
  permission: 'permission_error',
  not_found: 'not_found_error',
  too_large: 'request_too_large',
  rate_limit: 'rate_limit_error',
  unavailable: 'overloaded_error',
};

export function anthropicErrorBody(info: AltraceErrorInfo, message: string, errorClass: string) {
  return { type: 'error', error: { type: types[errorClass] ?? 'api_error', message }, altrace: info };
}

export function anthropicErrorReply(info: AltraceErrorInfo, status: number, message: string, errorClass: string): ErrorReply {
  return {
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(anthropicErrorBody(info, message, errorClass)),
  };
}

export function anthropicStreamError(info: AltraceErrorInfo, message: string, errorClass: string): string {
  return formatSse('error', JSON.stringify(anthropicErrorBody(info, message, errorClass)));
}
