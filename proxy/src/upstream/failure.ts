import type { ReasonCode } from '../core/reasons.js';

/**
 * Maps an upstream failure to the reason the agent sees: one pure function, tested by a
 * table (test/unit/upstream-failure.test.ts).
 */
export function upstreamFailureReason(err: unknown): ReasonCode {
  // The call stack overflowed walking what upstream sent (nesting no depth check caught):
  // its answer could not be read, the connection itself was fine.
  if (err instanceof RangeError) return 'ALT_UPSTREAM_BAD_RESPONSE';
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'ETIMEDOUT':
      return 'ALT_UPSTREAM_TIMEOUT';
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'ALT_UPSTREAM_UNREACHABLE';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
    case 'UND_ERR_CLOSED':
    case 'ERR_STREAM_PREMATURE_CLOSE':
    case 'ALT_UPSTREAM_ENDED_EARLY':
      return 'ALT_UPSTREAM_RESET';
    case 'ALT_UPSTREAM_BAD_RESPONSE':
      return 'ALT_UPSTREAM_BAD_RESPONSE';
    case 'ALT_RESPONSE_TOO_LARGE':
      return 'ALT_RESPONSE_TOO_LARGE';
    default:
      return 'ALT_UPSTREAM_UNREACHABLE';
  }
}
