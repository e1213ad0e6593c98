// Errors of the agent around the proxy, each with a stable code (the proxy's decisions
// use reason codes instead: proxy/src/chain/reasons.ts).

export class AltraceError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
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

/** A control-API request was refused; carries the HTTP status and the field at fault. */
export class ControlError extends AltraceError {
  constructor(code: string, readonly status: number, message: string, readonly field?: string) {
    super(code, message);
  }
}

/** A CLI invocation is malformed (exit code 2). */
export class UsageError extends AltraceError {
  constructor(message: string) {
    super('ALT_USAGE', message);
  }
}
