import { isIP } from 'node:net';
import { addressBytes } from '../bpf/address.js';
import type { DestinationSource } from '../bpf/layout.js';

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
  /** The nets, parsed once, for providerOf (events arrive one per connect). */
  #parsed: { net: { bytes: Buffer; bits: number }; held: Held }[] | null = null;
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
    if (isIP(address) === 0) return null;
    const bytes = addressBytes(address);
    this.#parsed ??= [...this.#held.entries()].map(([net, held]) => ({ net: parseNet(net), held }));
    let best: { bits: number; provider: string } | null = null;
    for (const { net, held } of this.#parsed) {
      if ((best === null || net.bits > best.bits) && contains(net, bytes)) best = { bits: net.bits, provider: held.provider };
    }
    return best?.provider ?? null;
  }

  /**
   * A DNS answer a governed pod received: when the question names a provider's host (exactly,
   * or below a `*.suffix` one), the addresses it was given join the set for their TTL. Returns
   * the provider, or null when the name is nobody's.
   */
  observe(name: string, answers: readonly { address: string; ttl: number }[]): string | null {
    const wanted = normalName(name);
    const spec = this.#specs.find((s) => nameMatches(normalName(s.host), wanted));
    if (!spec || isIP(spec.host) !== 0 || isCidr(spec.host)) return null;
    const now = this.#now();
    for (const a of answers) this.#hold('observed', spec.provider, 'observed', a.address, now + (this.#clamp(a.ttl) + this.#o.minTtlS) * 1000);
    this.#expire();
    return spec.provider;
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

  #hold(holder: number | 'observed', provider: string, source: DestinationSource, net: string, until: number): void {
    let h = this.#held.get(net);
    if (!h) {
      h = { provider, source, holders: new Map() };
      this.#held.set(net, h);
      this.#parsed = null;
      this.#sink.add(net, source);
    }
    h.holders.set(holder, Math.max(until, h.holders.get(holder) ?? 0));
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
      this.#held.delete(net);
      this.#parsed = null;
      this.#sink.remove(net);
    }
  }
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
