import { isIP } from 'node:net';
import { addressBytes, formatNet, isV4Mapped } from '../bpf/address.js';
import type { DestinationSource } from '../bpf/layout.js';
import { checkNet } from '../bpf/validate.js';

/**
 * One AI destination as configured: a provider's host — an FQDN (resolved by the node, and
 * learned from the DNS answers governed pods receive), `*.suffix` (learned from those answers
 * only), an address, or a CIDR. Every port of its addresses is an AI destination.
 */
export interface DestinationSpec {
  provider: string;
  host: string;
  /** A provider's published range rather than an operator's entry (reported, not decided on). */
  published?: boolean;
}

/** Where the set goes: the BPF LPM trie, or the nftables sets. */
export interface DestinationSink {
  add(net: string, source: DestinationSource): void;
  remove(net: string): boolean;
}

/** The part of node:dns's Resolver this uses (a test passes one pointed at its own server). */
export interface DnsResolver {
  resolve4(host: string, options: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
  resolve6(host: string, options: { ttl: true }): Promise<{ address: string; ttl: number }[]>;
}

export interface ResolverOptions {
  dns: DnsResolver;
  minTtlS: number;
  maxTtlS: number;
  onError?: (host: string, err: Error) => void;
  now?: () => number;
  /** How long an address a pod was told stays in the set (default a day: a pod may keep it that
   *  long, and nothing else on the node may ask again for a provider known only by a pattern). */
  observedHoldS?: number;
  /** At most this many observed addresses; the soonest to expire go first (default 4096). */
  maxObserved?: number;
  /** Learn private, loopback, link-local and other non-public addresses from pods' answers
   *  (default no: a pod could otherwise send cluster addresses to the proxy with a forged reply). */
  observePrivate?: boolean;
}

interface Held {
  provider: string;
  source: DestinationSource;
  /** Who holds this net, each until when: spec indexes, or 'observed'. */
  holders: Map<number | 'observed', number>;
}

export interface DestinationEntry {
  provider: string;
  net: string;
  source: DestinationSource;
}

/** A net's address bytes and prefix length in bits of the 16-byte form. */
function parseNet(net: string): { bytes: Buffer; bits: number } {
  const [address, length] = net.split('/') as [string, string | undefined];
  const v4 = isIP(address) === 4;
  const bits = length === undefined ? 128 : Number(length) + (v4 ? 96 : 0);
  return { bytes: addressBytes(address), bits };
}

function contains(net: { bytes: Buffer; bits: number }, address: Buffer): boolean {
  for (let bit = 0; bit < net.bits; bit++) {
    const mask = 0x80 >> (bit & 7);
    if ((net.bytes[bit >> 3]! & mask) !== (address[bit >> 3]! & mask)) return false;
  }
  return true;
}

const isCidr = (host: string) => host.includes('/');
const isPattern = (host: string) => host.includes('*');
const normalName = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** A host pattern: a leading `*.` is one or more labels; any other `*` is any run within one label. */
function nameMatches(pattern: string, name: string): boolean {
  if (!isPattern(pattern)) return pattern === name;
  const label = (l: string) => l.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^.]*');
  const body = pattern.replace(/^\*\./, '').split('.').map(label).join('\\.');
  return new RegExp(`^${pattern.startsWith('*.') ? '(?:[^.]+\\.)+' : ''}${body}$`).test(name);
}

/**
 * Keeps the AI destination set current. Addresses and CIDRs are in for good. Each FQDN is
 * resolved (A and AAAA) again when its shortest TTL runs out, within [min, max]. DNS answers a
 * governed pod received (`observe`) add the addresses it was told, which a provider's DNS may
 * well choose differently from the node's. A resolved or observed address stays until its TTL
 * has passed since the last answer that named it, plus one minimum TTL: an agent may still hold
 * it from its own cache, and dropping it early would let that agent connect around the proxy.
 * A failed lookup keeps what was there (fail closed) and is retried after the minimum TTL.
 */
export class DestinationResolver {
  readonly #specs: readonly DestinationSpec[];
  readonly #sink: DestinationSink;
  readonly #o: ResolverOptions;
  readonly #now: () => number;
  readonly #held = new Map<string, Held>();
  readonly #timers = new Map<number, NodeJS.Timeout>();
  /** The nets, parsed once, for providerOf (events arrive one per connect), and its answers. */
  #parsed: { net: { bytes: Buffer; bits: number }; held: Held }[] | null = null;
  readonly #providerCache = new Map<string, string | null>();
  #closed = false;

  constructor(specs: readonly DestinationSpec[], sink: DestinationSink, options: ResolverOptions) {
    this.#specs = specs;
    this.#sink = sink;
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Resolves every spec once; the set is in place when this resolves. */
  async start(): Promise<void> {
    await Promise.all(this.#specs.map((_, i) => this.#refresh(i)));
  }

  /** The provider an address belongs to (any port), or null when it is not an AI destination. */
  providerOf(address: string): string | null {
    const cached = this.#providerCache.get(address);
    if (cached !== undefined) return cached;
    if (isIP(address) === 0) return null;
    const bytes = addressBytes(address);
    this.#parsed ??= [...this.#held.entries()].map(([net, held]) => ({ net: parseNet(net), held }));
    let best: { bits: number; provider: string } | null = null;
    for (const { net, held } of this.#parsed) {
      if ((best === null || net.bits > best.bits) && contains(net, bytes)) best = { bits: net.bits, provider: held.provider };
    }
    if (this.#providerCache.size >= 4096) this.#providerCache.clear();
    this.#providerCache.set(address, best?.provider ?? null);
    return best?.provider ?? null;
  }

  /**
   * A DNS answer a governed pod received: when the question names a provider's host (exactly,
   * or below a `*.suffix` one), the addresses it was given join the set for their TTL. Returns
   * the provider, or null when the name is nobody's.
   */
  observe(names: string | readonly string[], answers: readonly { address: string; ttl: number }[]): string | null {
    const wanted = (typeof names === 'string' ? [names] : names).map(normalName);
    const spec = this.#specs.find((s) => !isIP(s.host) && !isCidr(s.host) && wanted.some((n) => nameMatches(normalName(s.host), n)));
    if (!spec) return null;
    const now = this.#now();
    const holdS = this.#o.observedHoldS ?? 86_400;
    for (const a of answers) {
      if (!this.#o.observePrivate && !isPublic(a.address)) continue;
      this.#hold('observed', spec.provider, 'observed', a.address, now + Math.max(holdS, this.#clamp(a.ttl) + this.#o.minTtlS) * 1000);
    }
    this.#expire();
    this.#capObserved();
    return spec.provider;
  }

  /** Observed-only addresses beyond the cap go, the soonest to expire first: a flood of forged answers cannot fill the kernel's set. */
  #capObserved(): void {
    const max = this.#o.maxObserved ?? 4096;
    const observed = [...this.#held.entries()].filter(([, h]) => h.holders.size === 1 && h.holders.has('observed'));
    if (observed.length <= max) return;
    observed.sort((a, b) => a[1].holders.get('observed')! - b[1].holders.get('observed')!);
    for (const [net] of observed.slice(0, observed.length - max)) this.#drop(net);
  }

  /** What is in the set now, for status output. */
  entries(): DestinationEntry[] {
    return [...this.#held.entries()].map(([net, h]) => ({ provider: h.provider, net, source: h.source }));
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  async #refresh(index: number): Promise<void> {
    const spec = this.#specs[index]!;
    if (isPattern(spec.host)) return;
    if (isIP(spec.host) || isCidr(spec.host)) {
      this.#hold(index, spec.provider, spec.published ? 'published' : 'configured', spec.host, Number.POSITIVE_INFINITY);
      return;
    }
    let nextS = this.#o.minTtlS;
    try {
      const answers = await this.#lookup(spec.host);
      const now = this.#now();
      for (const a of answers) this.#hold(index, spec.provider, 'resolved', a.address, now + (this.#clamp(a.ttl) + this.#o.minTtlS) * 1000);
      if (answers.length > 0) nextS = Math.min(...answers.map((a) => this.#clamp(a.ttl)));
    } catch (err) {
      this.#o.onError?.(spec.host, err as Error);
      // Unknown is not gone: what the name last resolved to stays until an answer replaces it.
      this.#extend(index, this.#now() + 2 * this.#o.minTtlS * 1000);
    }
    this.#expire();
    if (this.#closed) return;
    const timer = setTimeout(() => void this.#refresh(index), nextS * 1000);
    timer.unref();
    this.#timers.set(index, timer);
  }

  async #lookup(host: string): Promise<{ address: string; ttl: number }[]> {
    const [v4, v6] = await Promise.allSettled([this.#o.dns.resolve4(host, { ttl: true }), this.#o.dns.resolve6(host, { ttl: true })]);
    const found = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    // No address of either family: a real failure only when both lookups failed.
    if (found.length === 0 && v4.status === 'rejected' && v6.status === 'rejected') throw v4.reason as Error;
    return found;
  }

  #clamp(ttl: number): number {
    return Math.min(this.#o.maxTtlS, Math.max(this.#o.minTtlS, ttl));
  }

  #hold(holder: number | 'observed', provider: string, source: DestinationSource, text: string, until: number): void {
    // One spelling per net (203.0.113.7 and 203.0.113.7/32 are one kernel key): each is held once.
    const net = formatNet(checkNet('net', text));
    let h = this.#held.get(net);
    if (!h) {
      try {
        this.#sink.add(net, source);
      } catch (err) {
        // Not in the kernel is not held: the next refresh or answer tries again.
        this.#o.onError?.(net, err as Error);
        return;
      }
      h = { provider, source, holders: new Map() };
      this.#held.set(net, h);
      this.#invalidate();
    }
    h.holders.set(holder, Math.max(until, h.holders.get(holder) ?? 0));
  }

  #invalidate(): void {
    this.#parsed = null;
    this.#providerCache.clear();
  }

  #drop(net: string): void {
    this.#held.delete(net);
    this.#invalidate();
    this.#sink.remove(net);
  }

  #extend(index: number, until: number): void {
    for (const h of this.#held.values()) {
      const held = h.holders.get(index);
      if (held !== undefined && held < until) h.holders.set(index, until);
    }
  }

  #expire(): void {
    const now = this.#now();
    for (const [net, h] of this.#held) {
      for (const [holder, until] of h.holders) if (until <= now) h.holders.delete(holder);
      if (h.holders.size > 0) continue;
      this.#drop(net);
    }
  }
}

const NON_PUBLIC_V4: [number, number, number][] = [
  // [first octet, second octet mask, second octet value] ranges, as (a, mask, value) on octet 2.
  [0, 0, 0], [10, 0, 0], [127, 0, 0], [100, 0xc0, 64], [169, 0xff, 254], [172, 0xf0, 16], [192, 0xff, 168],
];

/** A globally routable unicast address: what a provider's API answers on (never loopback, private, link-local, CGNAT, multicast, reserved). */
export function isPublic(address: string): boolean {
  if (isIP(address) === 0) return false;
  const b = addressBytes(address);
  if (isV4Mapped(b)) {
    const [a, second] = [b[12]!, b[13]!];
    if (a >= 224) return false;
    return !NON_PUBLIC_V4.some(([first, mask, value]) => a === first && (second & mask) === value);
  }
  if (b.every((x) => x === 0) || (b.subarray(0, 15).every((x) => x === 0) && b[15] === 1)) return false;
  // Only 2000::/3 is global unicast today (ULA fc00::/7, link-local fe80::/10, multicast ff00::/8 are not).
  return (b[0]! & 0xe0) === 0x20;
}

/**
 * A configured destination: `host`, `host:port`, `[v6]:port`, `v6`, or a CIDR. The port is
 * accepted for older configurations and ignored: every port of an AI destination is governed.
 */
export function parseDestination(text: string): string {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  const host = bracketed ? bracketed[1]! : isIP(text.split('/')[0]!) === 6 ? text : text.replace(/:(\d+)$/, '');
  const port = bracketed?.[2] ?? (host === text ? undefined : /:(\d+)$/.exec(text)?.[1]);
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) throw new Error(`port out of range in ${text}`);
  if (host === '' || /\s/.test(host)) throw new Error(`not a host, address or CIDR: ${text}`);
  if (isCidr(host)) {
    const [address, bits] = host.split('/') as [string, string];
    const family = isIP(address);
    if (family === 0 || !/^\d{1,3}$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128)) throw new Error(`not a CIDR: ${text}`);
  }
  return host;
}
