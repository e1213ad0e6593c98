// Byte layouts of the structs in bpf/altrace.h, the only place JS touches them. The addon
// reports the layout its compiler chose (bpfLayout()); checkLayout() refuses to run on a
// mismatch, so an edited header cannot silently corrupt the maps.
import { addressBytes, formatAddress, isV4Mapped } from './address.js';
import { BpfError } from './errors.js';

export const LAYOUT = {
  endpoint: { size: 20, addr: 0, port: 16 },
  exemptKey: { size: 16, kind: 0, id: 8 },
  config: { size: 32, proxy6: 0, proxy4: 16, port4: 20, port6: 22, flags: 24 },
  origin: { size: 48, dest: 0, family: 20, cgroup_id: 24, socket_cookie: 32, netns_cookie: 40 },
  event: {
    size: 104, timestamp_ns: 0, cgroup_id: 8, netns_cookie: 16, socket_cookie: 24, pid: 32, tgid: 36,
    dest: 40, family: 60, verdict: 62, protocol: 63, comm: 64, source: 80, ifindex: 100,
  },
  stats: { size: 96, count: 12 },
  netKey: { size: 20, prefixlen: 0, addr: 4 },
  egressKey: { size: 24, prefixlen: 0, set: 4, addr: 8 },
  allow: { size: 16, ports: 0 },
  dnsEvent: { size: 1040, cgroup_id: 0, length: 8, payload: 16 },
} as const;

export const STAT_NAMES = [
  'redirects', 'killed', 'udpRefused', 'noProxy', 'exempt', 'events', 'drops', 'destroyed',
  'bypassDropped', 'strictRefused', 'strictDropped', 'dnsSeen',
] as const;
export const EVENT_KINDS = {
  1: 'redirect', 2: 'killed', 3: 'udp_refused', 4: 'no_proxy', 5: 'bypass_dropped', 6: 'strict_refused', 7: 'strict_dropped',
  8: 'egress_refused',
} as const;
/** Why an address is in the destination set (enum alt_dest_source). */
export const DEST_SOURCES = { resolved: 1, observed: 2, configured: 3, published: 4 } as const;
export type DestinationSource = keyof typeof DEST_SOURCES;
export const ALLOW_PORTS = 8;
export const IFACE_BACKSTOP = 1;
export const IFACE_STRICT = 2;
export const EXEMPT_CGROUP = 1;
export const EXEMPT_NETNS = 2;
export const CONFIG_PROXY4 = 1;
export const CONFIG_PROXY6 = 2;
export const CONFIG_OPT_IN = 4;
const AF_INET = 2;
const PROTOCOLS: Record<number, 'tcp' | 'udp'> = { 6: 'tcp', 17: 'udp' };
const COMM_LEN = 16;

export function checkLayout(native: unknown): void {
  for (const [struct, fields] of Object.entries(LAYOUT)) {
    const theirs = (native as Record<string, Record<string, number>> | undefined)?.[struct];
    for (const [field, value] of Object.entries(fields)) {
      if (theirs?.[field] !== value) {
        throw new BpfError('ALT_BPF_LAYOUT', `bpf/altrace.h changed: ${struct}.${field} is ${String(theirs?.[field])} in the addon, ${value} here`);
      }
    }
  }
}

export interface Endpoint {
  address: string;
  port: number;
}

export function encodeEndpoint(ep: Endpoint): Buffer {
  const out = Buffer.alloc(LAYOUT.endpoint.size);
  addressBytes(ep.address).copy(out, LAYOUT.endpoint.addr);
  out.writeUInt16BE(ep.port, LAYOUT.endpoint.port);
  return out;
}

function decodeEndpoint(buf: Buffer, at: number): Endpoint & { family: 4 | 6 } {
  const addr = buf.subarray(at + LAYOUT.endpoint.addr, at + LAYOUT.endpoint.addr + 16);
  return { address: formatAddress(addr), port: buf.readUInt16BE(at + LAYOUT.endpoint.port), family: isV4Mapped(addr) ? 4 : 6 };
}

/** An address prefix as the LPM tries key it: bits of the 16-byte (v4-mapped) address. */
export interface Net {
  address: string;
  prefixLength: number;
}

export function encodeNetKey(net: Net): Buffer {
  const out = Buffer.alloc(LAYOUT.netKey.size);
  out.writeUInt32LE(net.prefixLength, LAYOUT.netKey.prefixlen);
  addressBytes(net.address).copy(out, LAYOUT.netKey.addr);
  return out;
}

export function decodeNetKey(buf: Buffer): Net & { family: 4 | 6 } {
  const addr = buf.subarray(LAYOUT.netKey.addr, LAYOUT.netKey.addr + 16);
  return { address: formatAddress(addr), prefixLength: buf.readUInt32LE(LAYOUT.netKey.prefixlen), family: isV4Mapped(addr) ? 4 : 6 };
}

/** A key of alt_egress_nets: an egress set's net (its prefix counts the set's 32 bits first). */
export function encodeEgressKey(set: number, net: Net): Buffer {
  const out = Buffer.alloc(LAYOUT.egressKey.size);
  out.writeUInt32LE(32 + net.prefixLength, LAYOUT.egressKey.prefixlen);
  out.writeUInt32BE(set, LAYOUT.egressKey.set);
  addressBytes(net.address).copy(out, LAYOUT.egressKey.addr);
  return out;
}

export function decodeEgressKey(buf: Buffer): { set: number; net: Net } {
  const addr = buf.subarray(LAYOUT.egressKey.addr, LAYOUT.egressKey.addr + 16);
  return { set: buf.readUInt32BE(LAYOUT.egressKey.set), net: { address: formatAddress(addr), prefixLength: buf.readUInt32LE(LAYOUT.egressKey.prefixlen) - 32 } };
}

export function encodeAllow(ports: readonly number[]): Buffer {
  const out = Buffer.alloc(LAYOUT.allow.size);
  ports.forEach((p, i) => out.writeUInt16BE(p, LAYOUT.allow.ports + i * 2));
  return out;
}

/** The ports of an allow entry (none: any port). */
export function decodeAllow(buf: Buffer): number[] {
  const ports: number[] = [];
  for (let i = 0; i < ALLOW_PORTS; i++) {
    const p = buf.readUInt16BE(LAYOUT.allow.ports + i * 2);
    if (p === 0) break;
    ports.push(p);
  }
  return ports;
}

/** One DNS response a governed socket received. */
export interface DnsAnswerRecord {
  cgroupId: bigint;
  message: Buffer;
}

export function decodeDnsEvents(batch: Buffer): DnsAnswerRecord[] {
  const d = LAYOUT.dnsEvent;
  const out: DnsAnswerRecord[] = [];
  for (let at = 0; at + d.size <= batch.length; at += d.size) {
    const length = Math.min(batch.readUInt16LE(at + d.length), d.size - d.payload);
    out.push({ cgroupId: batch.readBigUInt64LE(at + d.cgroup_id), message: Buffer.from(batch.subarray(at + d.payload, at + d.payload + length)) });
  }
  return out;
}

export function encodeU64(value: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(value);
  return out;
}

export function encodeU32(value: number): Buffer {
  const out = Buffer.alloc(4);
  out.writeUInt32LE(value);
  return out;
}

export function encodeExemptKey(kind: typeof EXEMPT_CGROUP | typeof EXEMPT_NETNS, id: bigint): Buffer {
  const out = Buffer.alloc(LAYOUT.exemptKey.size);
  out.writeUInt32LE(kind, LAYOUT.exemptKey.kind);
  out.writeBigUInt64LE(id, LAYOUT.exemptKey.id);
  return out;
}

export interface ProxyConfig {
  v4: Endpoint | null;
  v6: Endpoint | null;
  /** Opt-in mode: pods the agent marks ungoverned are left alone. */
  optIn?: boolean;
}

export function encodeConfig(cfg: ProxyConfig): Buffer {
  const c = LAYOUT.config;
  const out = Buffer.alloc(c.size);
  let flags = 0;
  if (cfg.v4) {
    addressBytes(cfg.v4.address).copy(out, c.proxy4, 12, 16);
    out.writeUInt16BE(cfg.v4.port, c.port4);
    flags |= CONFIG_PROXY4;
  }
  if (cfg.v6) {
    addressBytes(cfg.v6.address).copy(out, c.proxy6);
    out.writeUInt16BE(cfg.v6.port, c.port6);
    flags |= CONFIG_PROXY6;
  }
  if (cfg.optIn) flags |= CONFIG_OPT_IN;
  out.writeUInt32LE(flags, c.flags);
  return out;
}

export function decodeConfig(buf: Buffer): ProxyConfig {
  const c = LAYOUT.config;
  const flags = buf.readUInt32LE(c.flags);
  const mapped = Buffer.alloc(16);
  mapped.writeUInt16BE(0xffff, 10);
  buf.copy(mapped, 12, c.proxy4, c.proxy4 + 4);
  return {
    v4: flags & CONFIG_PROXY4 ? { address: formatAddress(mapped), port: buf.readUInt16BE(c.port4) } : null,
    v6: flags & CONFIG_PROXY6 ? { address: formatAddress(buf.subarray(c.proxy6, c.proxy6 + 16)), port: buf.readUInt16BE(c.port6) } : null,
    ...(flags & CONFIG_OPT_IN ? { optIn: true } : {}),
  };
}

/** Where a redirected connection was going, and whose it is. */
export interface OriginalDestination extends Endpoint {
  family: 4 | 6;
  cgroupId: bigint;
  socketCookie: bigint;
  netnsCookie: bigint;
}

export function decodeOrigin(buf: Buffer): OriginalDestination {
  const o = LAYOUT.origin;
  return {
    ...decodeEndpoint(buf, o.dest),
    cgroupId: buf.readBigUInt64LE(o.cgroup_id),
    socketCookie: buf.readBigUInt64LE(o.socket_cookie),
    netnsCookie: buf.readBigUInt64LE(o.netns_cookie),
  };
}

export type BpfEventKind = (typeof EVENT_KINDS)[keyof typeof EVENT_KINDS];

/** One AI-bound connect or refused datagram, as the kernel saw it. */
export interface BpfEvent {
  kind: BpfEventKind;
  /** The process (userspace pid, the kernel's tgid) and the thread that called connect/sendmsg. */
  pid: number;
  tid: number;
  comm: string;
  cgroupId: bigint;
  netnsCookie: bigint;
  socketCookie: bigint;
  destination: Endpoint & { family: 4 | 6 };
  socketFamily: 4 | 6;
  protocol: 'tcp' | 'udp' | 'other';
  /** Packet verdicts (bypass_dropped, strict_dropped): the packet's source and the interface
   *  it arrived on (0 for the cgroup backstop); pid, comm and, from an interface, cgroupId are 0. */
  source: (Endpoint & { family: 4 | 6 }) | null;
  ifindex: number;
  /** CLOCK_BOOTTIME, nanoseconds. */
  timestampNs: bigint;
}

export function decodeEvents(batch: Buffer): BpfEvent[] {
  const e = LAYOUT.event;
  const out: BpfEvent[] = [];
  for (let at = 0; at + e.size <= batch.length; at += e.size) {
    const kind = EVENT_KINDS[batch[at + e.verdict] as keyof typeof EVENT_KINDS];
    if (!kind) continue;
    const comm = batch.subarray(at + e.comm, at + e.comm + COMM_LEN);
    const nul = comm.indexOf(0);
    out.push({
      kind,
      pid: batch.readUInt32LE(at + e.tgid),
      tid: batch.readUInt32LE(at + e.pid),
      comm: comm.subarray(0, nul < 0 ? COMM_LEN : nul).toString('utf8'),
      cgroupId: batch.readBigUInt64LE(at + e.cgroup_id),
      netnsCookie: batch.readBigUInt64LE(at + e.netns_cookie),
      socketCookie: batch.readBigUInt64LE(at + e.socket_cookie),
      destination: decodeEndpoint(batch, at + e.dest),
      socketFamily: batch.readUInt16LE(at + e.family) === AF_INET ? 4 : 6,
      protocol: PROTOCOLS[batch[at + e.protocol]!] ?? 'other',
      timestampNs: batch.readBigUInt64LE(at + e.timestamp_ns),
      source: kind === 'bypass_dropped' || kind === 'strict_dropped' ? decodeEndpoint(batch, at + e.source) : null,
      ifindex: batch.readUInt32LE(at + e.ifindex),
    });
  }
  return out;
}

export type BpfStats = Record<(typeof STAT_NAMES)[number], number>;

/** Sums the per-CPU copies of alt_stats (one 8-byte-aligned slot per possible CPU). */
export function decodeStats(perCpu: Buffer): BpfStats {
  const stats = Object.fromEntries(STAT_NAMES.map((n) => [n, 0])) as BpfStats;
  for (let at = 0; at + LAYOUT.stats.size <= perCpu.length; at += LAYOUT.stats.size) {
    STAT_NAMES.forEach((name, i) => {
      stats[name] += Number(perCpu.readBigUInt64LE(at + i * 8));
    });
  }
  return stats;
}
