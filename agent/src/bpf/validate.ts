// Argument checks for enforcer.ts: each throws a BpfError naming the option at fault, before
// anything reaches the addon.
import { isIP } from 'node:net';
import { isAbsolute } from 'node:path';
import { invalid } from './errors.js';
import { addressBytes } from './address.js';
import type { Endpoint, Net } from './layout.js';

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

/** "a.b.c.d", "a.b.c.d/n", "v6", "v6/n": the prefix as the LPM tries key it (IPv4 bits count
 *  from the v4-mapped prefix: /24 is 96 + 24). Host bits must be zero, so one net has one text. */
export function checkNet(option: string, text: unknown): Net {
  if (typeof text !== 'string') throw invalid(option, `must be an address or CIDR, got ${String(text)}`);
  const [address, bits, extra] = text.split('/');
  const family = isIP(address ?? '');
  if (family === 0 || extra !== undefined || address!.includes('%')) throw invalid(option, `must be an address or CIDR, got ${text}`);
  const max = family === 4 ? 32 : 128;
  const length = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : NaN;
  if (!(length >= 0 && length <= max)) throw invalid(option, `prefix length must be 0-${max}, got ${text}`);
  const prefixLength = family === 4 ? 96 + length : length;
  const bytes = addressBytes(address!);
  for (let bit = prefixLength; bit < 128; bit++) {
    if (bytes[bit >> 3]! & (0x80 >> (bit & 7))) throw invalid(option, `has host bits set beyond /${length}: ${text}`);
  }
  return { address: address!, prefixLength };
}
