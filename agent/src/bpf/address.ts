import { isIPv4 } from 'node:net';

// The BPF maps hold every address as 16 bytes: IPv6, or IPv4 as v4-mapped ::ffff:a.b.c.d.

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

function v4Bytes(address: string): number[] {
  return address.split('.').map((part) => Number(part));
}

/** 16 bytes for an address `isIP` accepts (no zone index). */
export function addressBytes(address: string): Buffer {
  if (isIPv4(address)) return Buffer.from([...V4_MAPPED_PREFIX, ...v4Bytes(address)]);
  let text = address;
  let tail: number[] = [];
  const v4 = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    tail = v4Bytes(v4[1]!);
    text = `${text.slice(0, v4.index)}:0:0`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string) => (part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16)));
  const left = groups(head);
  const right = rest === undefined ? [] : groups(rest);
  const words = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  words.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  if (tail.length === 4) Buffer.from(tail).copy(out, 12);
  return out;
}

export function isV4Mapped(bytes: Uint8Array): boolean {
  return V4_MAPPED_PREFIX.every((b, i) => bytes[i] === b);
}

/** The text form: dotted IPv4 for a v4-mapped address, RFC 5952 IPv6 otherwise. */
export function formatAddress(bytes: Uint8Array): string {
  if (isV4Mapped(bytes)) return Array.from(bytes.subarray(12, 16)).join('.');
  const words = Array.from({ length: 8 }, (_, i) => (bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // The longest run of two or more zero words becomes "::" (the first one on a tie).
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > best.len && j - i >= 2) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best.at < 0) return hex(words);
  return `${hex(words.slice(0, best.at))}::${hex(words.slice(best.at + best.len))}`;
}

export function isLoopback(address: string): boolean {
  const bytes = addressBytes(address);
  if (isV4Mapped(bytes)) return bytes[12] === 127;
  return bytes.subarray(0, 15).every((b) => b === 0) && bytes[15] === 1;
}

export function isUnspecified(address: string): boolean {
  const bytes = addressBytes(address);
  return isV4Mapped(bytes) ? bytes.subarray(12).every((b) => b === 0) : bytes.every((b) => b === 0);
}


/** "a.b.c.d/n" or "v6/n" (the bare address for a single host) from an LPM key's prefix. */
export function formatNet(net: { address: string; prefixLength: number }): string {
  const bytes = addressBytes(net.address);
  const v4 = isV4Mapped(bytes) && net.prefixLength >= 96;
  const bits = v4 ? net.prefixLength - 96 : net.prefixLength;
  if (bits === (v4 ? 32 : 128)) return net.address;
  return `${net.address}/${bits}`;
}
