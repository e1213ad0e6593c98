// Errors of the agent around the proxy, each with a stable code from error-codes.ts (the
// proxy's decisions use reason codes instead: proxy/src/core/reasons.ts).
import { controlStatus, type AgentErrorCode, type ControlErrorCode } from './error-codes.js';

export class AltraceError extends Error {
  readonly code: AgentErrorCode;
  constructor(code: AgentErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The configuration file or an override is invalid; names the offending field. */
export class ConfigError extends AltraceError {
  constructor(message: string, readonly field: string) {
    super('ALT_CONFIG_INVALID', message);
  }
}

/** A policy file is invalid; names the offending field. */
export class PolicyError extends AltraceError {
  constructor(message: string, readonly field: string) {
    super('ALT_POLICY_INVALID', message);
  }
}

/** The credential store could not be read or written (wrong master key, corrupt file). */
export class CredentialStoreError extends AltraceError {
  constructor(message: string) {
    super('ALT_CREDENTIAL_STORE', message);
  }
}

/** A control-API request was refused; carries the HTTP status (its code's) and the field at fault. */
export class ControlError extends AltraceError {
  declare readonly code: ControlErrorCode;
  readonly status: number;
  /** `retryAfterS`: a refusal that can succeed later says when (the retry-after header). */
  constructor(code: ControlErrorCode, message: string, readonly field?: string, readonly retryAfterS?: number) {
    super(code, message);
    this.status = controlStatus(code);
  }
}

/** A control-API method the path does not take; `allow` lists the ones it does (the 405's allow header). */
export class MethodNotAllowed extends ControlError {
  constructor(method: string, path: string, readonly allow: readonly string[]) {
    super('ALT_METHOD_NOT_ALLOWED', `${method} is not supported on ${path} (it takes ${allow.join(', ')})`);
  }
}

/**
 * A CLI invocation is malformed (exit code 2): caught by the CLI itself (ALT_USAGE), or a value
 * the control API refused as invalid (400), which keeps the server's code.
 */
export class UsageError extends AltraceError {
  constructor(message: string, code: AgentErrorCode = 'ALT_USAGE') {
    super(code, message);
  }
}

/** The refusal of a value outside an enumeration: names the value given and every allowed one. */
export function notOneOf(field: string, value: unknown, allowed: Iterable<string>): string {
  const choices = [...allowed].join(', ');
  return value === undefined || value === null ? `${field} is required: one of ${choices}` : `${field} ${JSON.stringify(value)} is not one of ${choices}`;
}
