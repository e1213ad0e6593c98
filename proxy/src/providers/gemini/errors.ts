import type { AltraceErrorInfo, ErrorReply } from '../adapter.js';

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

/** google.rpc.Status with an ErrorInfo detail carrying the reason, and the altrace object. */
export function geminiErrorBody(info: AltraceErrorInfo, status: number, message: string) {
  return {
    error: {
      code: status,
      message,
      status: statuses[status] ?? 'UNKNOWN',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
          reason: info.reason,
          domain: 'altrace',
          metadata: { stage: info.stage, request_id: info.request_id },
        },
      ],
      altrace: info,
    },
  };
}

export function geminiErrorReply(info: AltraceErrorInfo, status: number, message: string): ErrorReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(geminiErrorBody(info, status, message)) };
}
