import type { AltraceErrorInfo, ErrorReply } from '../adapter.js';
import { encodeAwsEvent } from '../../stream/aws-event-stream.js';

function exceptionName(status: number): string {
  if (status === 400 || status === 413 || status === 415 || status === 405) return 'ValidationException';
  if (status === 401 || status === 403) return 'AccessDeniedException';
  if (status === 404) return 'ResourceNotFoundException';
  if (status === 408 || status === 504) return 'ModelTimeoutException';
  if (status === 429) return 'ThrottlingException';
  if (status === 502 || status === 503) return 'ServiceUnavailableException';
  return 'InternalServerException';
}

/** Exceptions a Bedrock event stream can carry, by the closest status. */
function streamExceptionName(status: number): string {
  if (status === 429) return 'throttlingException';
  if (status === 503 || status === 502) return 'serviceUnavailableException';
  if (status >= 500) return 'internalServerException';
  return 'validationException';
}

export function bedrockErrorReply(info: AltraceErrorInfo, status: number, message: string): ErrorReply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': exceptionName(status) },
    body: JSON.stringify({ message, altrace: info }),
  };
}

export function bedrockStreamError(info: AltraceErrorInfo, status: number, message: string): Uint8Array {
  return encodeAwsEvent('exception', streamExceptionName(status), { message, altrace: info });
}
