import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AltraceError } from './errors.js';
import { packageRoot } from './paths.js';

interface NativeBinding {
  abiVersion: number;
  originalDestination(fd: number): { address: string; port: number } | null;
}

export class NativeError extends AltraceError {
  constructor(message: string) {
    super('ALT_NATIVE', message);
  }
}

const ADDON = join(packageRoot, 'build', 'Release', 'altrace_native.node');
let binding: NativeBinding | null = null;

/** The addon, loaded once; a clear error when `npm ci` could not build it. */
export function native(): NativeBinding {
  if (binding) return binding;
  if (!existsSync(ADDON)) throw new NativeError(`native addon not built (${ADDON}); run npm ci with python3, make and g++ present`);
  binding = createRequire(import.meta.url)(ADDON) as NativeBinding;
  return binding;
}

/** The pre-NAT destination of a redirected connection, or null when it was not redirected. */
export function originalDestination(fd: number): { address: string; port: number } | null {
  if (!Number.isInteger(fd) || fd < 0) throw new TypeError(`originalDestination: fd must be a non-negative integer, got ${String(fd)}`);
  return native().originalDestination(fd);
}
