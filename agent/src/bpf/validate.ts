// Argument checks for enforcer.ts: each throws a BpfError naming the option at fault, before
// anything reaches the addon.
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { invalid } from './errors.js';
import type { Endpoint } from './layout.js';

export function checkAddress(option: string, address: unknown): string {
  if (typeof address !== 'string' || isIP(address) === 0 || address.includes('%')) throw invalid(option, `must be an IPv4 or IPv6 address, got ${String(address)}`);
  return address;
}

export function checkPort(option: string, port: unknown): number {
  if (!Number.isInteger(port) || (port as number) < 1 || (port as number) > 65535) throw invalid(option, `must be an integer port 1-65535, got ${String(port)}`);
  return port as number;
}

export function checkId(option: string, id: unknown): bigint {
  const value = typeof id === 'number' && Number.isSafeInteger(id) ? BigInt(id) : id;
  if (typeof value !== 'bigint' || value <= 0n || value >= 1n << 64n) throw invalid(option, `must be a positive 64-bit id (bigint), got ${String(id)}`);
  return value;
}

export function checkPath(option: string, path: unknown): string {
  if (typeof path !== 'string' || !isAbsolute(path) || path.includes('\0')) throw invalid(option, `must be an absolute path, got ${String(path)}`);
  return path;
}

export function endpoint(option: string, ep: unknown): Endpoint {
  if (typeof ep !== 'object' || ep === null) throw invalid(option, 'must be { address, port }');
  const { address, port } = ep as Record<string, unknown>;
  return { address: checkAddress(`${option}.address`, address), port: checkPort(`${option}.port`, port) };
}
