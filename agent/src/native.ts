import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AltraceError } from './errors.js';
import { packageRoot } from './paths.js';

interface NativeBinding {
  abiVersion: number;
  originalDestination(fd: number): { address: string; port: number } | null;
  /** Absent from an addon built before it was added (the caller falls back to node:crypto). */
  sha256Prefixed?(prefix: number, first: Uint8Array, second: Uint8Array, out: Uint8Array): void;
  /** Absent from an addon built before it was added. */
  releaseFreedMemory?(): boolean;
  /** Absent from an addon built before it was added. */
  allocatorFreeBytes?(): number;
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

export type PrefixedDigest = (prefix: number, first: Uint8Array, second?: Uint8Array) => Buffer;

const NO_BYTES = new Uint8Array(0);

/**
 * SHA-256 of one prefix byte, then `first`, then `second`, through the addon; null when the
 * addon is not built (or predates the helper), so the caller uses node:crypto instead.
 */
export function nativePrefixedSha256(): PrefixedDigest | null {
  let b: NativeBinding;
  try {
    b = native();
  } catch {
    return null;
  }
  const digest = b.sha256Prefixed?.bind(b);
  if (!digest) return null;
  return (prefix, first, second = NO_BYTES) => {
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > 255) throw new TypeError(`sha256Prefixed: prefix must be a byte, got ${String(prefix)}`);
    if (!(first instanceof Uint8Array)) throw new TypeError('sha256Prefixed: first must be a Uint8Array');
    if (!(second instanceof Uint8Array)) throw new TypeError('sha256Prefixed: second must be a Uint8Array');
    const out = Buffer.allocUnsafe(32);
    digest(prefix, first, second, out);
    return out;
  };
}

/**
 * Returns the C allocator's free pages to the system (glibc malloc_trim); false when the addon
 * is not built, predates the call, or the C library has none.
 */
export function releaseFreedMemory(): boolean {
  try {
    return native().releaseFreedMemory?.() ?? false;
  } catch {
    return false;
  }
}

/** Bytes the C allocator keeps freed (glibc mallinfo2), or null when the addon or the C library cannot say. */
export function allocatorFreeBytes(): number | null {
  try {
    const n = native().allocatorFreeBytes?.() ?? -1;
    return n >= 0 ? n : null;
  } catch {
    return null;
  }
}
