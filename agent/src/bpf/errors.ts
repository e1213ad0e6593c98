import { AltraceError } from '../errors.js';
import { agentErrorCodes, agentErrors, type AgentErrorCode } from '../error-codes.js';

export type BpfErrorCode = Extract<AgentErrorCode, `ALT_BPF_${string}`>;

/** Every code a BpfError carries, with what it means to an operator: the ALT_BPF_ rows of the
 *  agent's error table. The native addon throws the same class (handed to it at load), so its
 *  codes are listed there too. */
export const BPF_ERROR_CODES = Object.fromEntries(
  agentErrorCodes.filter((c) => c.startsWith('ALT_BPF_')).map((c) => [c, agentErrors[c].meaning]),
) as Readonly<Record<BpfErrorCode, string>>;

/** Node enforcement failed; `option` names the argument at fault, `errno` the kernel's answer. */
export class BpfError extends AltraceError {
  declare readonly code: BpfErrorCode;
  /** Set by the native addon when a system call failed. */
  declare readonly errno?: number;
  constructor(code: BpfErrorCode, message: string, readonly option?: string) {
    super(code, message);
  }
}

export function invalid(option: string, message: string): BpfError {
  return new BpfError('ALT_BPF_INVALID_OPTION', `${option} ${message}`, option);
}
