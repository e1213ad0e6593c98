import type { AltraceErrorInfo, ErrorReply, RetryAdvice } from '../adapter.js';
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

/**
 * The AWS SDK waits out a retry-after only up to its own backoff plus 5 s (@smithy/core,
 * util-retry StandardRetryStrategy: min(retry-after, backoff + 5000)): a retry sent before a
 * longer wait ends is refused again.
 */
export const BEDROCK_LONGEST_HONOURED_WAIT_MS = 5_000;

/**
 * The AWS SDK decides to retry from the status and the exception name alone, whatever the
 * headers say: 429 and throttling names as throttling, 500, 502, 503 and 504 as transient
 * (@smithy/core, retry/service-error-classification). A refusal it must not retry answers with
 * the Bedrock exception of the nearest meaning that the SDK leaves alone: Bedrock's own
 * quota refusal, ServiceQuotaExceededException, is an HTTP 400.
 */
const FINAL: Readonly<Record<number, readonly [number, string]>> = {
  // budgets, a run loop, a rate whose wait is longer than the SDK waits
  429: [400, 'ServiceQuotaExceededException'],
  // the credential lane holds no AWS credential: what Bedrock says when IAM does not allow the call
  503: [403, 'AccessDeniedException'],
  // the model's answer cannot be delivered (too large)
  502: [424, 'ModelErrorException'],
  500: [424, 'ModelErrorException'],
  504: [408, 'ModelTimeoutException'],
};

export function bedrockErrorReply(info: AltraceErrorInfo, status: number, message: string, retry: RetryAdvice): ErrorReply {
  const [sent, name] = (!retry.retryable && FINAL[status]) || [status, exceptionName(status)];
  return {
    status: sent,
    headers: { 'content-type': 'application/json', 'x-amzn-errortype': name },
    body: JSON.stringify({ message, altrace: info }),
  };
}

export function bedrockStreamError(info: AltraceErrorInfo, status: number, message: string): Uint8Array {
  return encodeAwsEvent('exception', streamExceptionName(status), { message, altrace: info });
}
