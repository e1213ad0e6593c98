import type { AltraceErrorInfo, ErrorReply, RetryAdvice } from '../adapter.js';

const statuses: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  405: 'UNIMPLEMENTED',
  408: 'DEADLINE_EXCEEDED',
  413: 'INVALID_ARGUMENT',
  415: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

/**
 * google.rpc.Status with an ErrorInfo detail carrying the reason, and the altrace object; a
 * refusal that can succeed later also says when the way the Gemini API does, in RetryInfo.
 */
export function geminiErrorBody(info: AltraceErrorInfo, status: number, message: string, retryAfterMs: number | null = null) {
  const details: Record<string, unknown>[] = [
    {
      '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
      reason: info.reason,
      domain: 'altrace',
      metadata: { stage: info.stage, request_id: info.request_id },
    },
  ];
  if (retryAfterMs !== null) details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${Math.ceil(retryAfterMs / 1000)}s` });
  return { error: { code: status, message, status: statuses[status] ?? 'UNKNOWN', details, altrace: info } };
}

export function geminiErrorReply(info: AltraceErrorInfo, status: number, message: string, retry: RetryAdvice): ErrorReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(geminiErrorBody(info, status, message, retry.afterMs)) };
}
