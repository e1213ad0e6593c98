import { AltraceError } from '../errors.js';

/** Every code a BpfError carries, with what it means to an operator. The native addon throws
 *  the same class (handed to it at load), so its codes are listed here too. */
export const BPF_ERROR_CODES = {
  ALT_BPF_UNAVAILABLE: 'BPF enforcement cannot run here; the message says why (not root, addon built without BPF, no BTF, no cgroup2)',
  ALT_BPF_INVALID_OPTION: 'an argument is invalid; `option` names it',
  ALT_BPF_LAYOUT: 'the addon was built from a different bpf/altrace.h than this code encodes; rebuild with npm ci',
  ALT_BPF_LOAD: 'the kernel refused the programs or maps (the message carries the verifier log)',
  ALT_BPF_ATTACH: 'attaching a program to a cgroup failed',
  ALT_BPF_MAP: 'a map update, lookup or delete failed (a full map gives E2BIG)',
  ALT_BPF_PIN: 'pinning or unpinning the maps in bpffs failed',
  ALT_BPF_CLOSED: 'the BPF object was used after close()',
  ALT_BPF_EVENTS: 'the event ring buffer could not be polled',
  ALT_BPF_NETNS: 'the network namespace could not be entered or inspected',
  ALT_BPF_ITER: 'the socket-destroy iterator could not be run',
} as const;

export type BpfErrorCode = keyof typeof BPF_ERROR_CODES;

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
