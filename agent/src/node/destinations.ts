import { isIP } from 'node:net';

/** One AI destination as configured: a provider's host (FQDN or address) and port. */
export interface DestinationSpec {
  provider: string;
  host: string;
  port: number;
}

/** Where the resolved addresses go: the BPF destination map. */
export interface DestinationSink {
  add(address: string, port: number): void;
  remove(address: string, port: number): boolean;
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
  /** Specs (by index) whose answers hold this address, each until when. */
  holders: Map<number, number>;
}

const key = (address: string, port: number) => `${address}|${port}`;

/**
 * Keeps the AI destination set current: each FQDN is resolved (A and AAAA) again when its
 * shortest TTL runs out, within [min, max]. An address stays in the set until its TTL has
 * passed since the last answer that named it, plus one minimum TTL: an agent may still hold it
 * from its own cache, and dropping it early would let that agent connect around the proxy.
 * A failed lookup keeps what was there (fail closed) and is retried after the minimum TTL.
 */
export class DestinationResolver {
  readonly #specs: readonly DestinationSpec[];
  readonly #sink: DestinationSink;
  readonly #o: ResolverOptions;
  readonly #now: () => number;
  readonly #held = new Map<string, Held>();
  readonly #timers = new Map<number, NodeJS.Timeout>();
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

  /** The provider an address:port belongs to, or null when it is not an AI destination. */
  providerOf(address: string, port: number): string | null {
    return this.#held.get(key(address, port))?.provider ?? null;
  }

  /** What is in the set now, for status output. */
  entries(): { provider: string; address: string; port: number }[] {
    return [...this.#held.entries()].map(([k, h]) => {
      const cut = k.lastIndexOf('|');
      return { provider: h.provider, address: k.slice(0, cut), port: Number(k.slice(cut + 1)) };
    });
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }

  async #refresh(index: number): Promise<void> {
    const spec = this.#specs[index]!;
    if (isIP(spec.host)) {
      this.#hold(index, spec, spec.host, Number.POSITIVE_INFINITY);
      return;
    }
    let nextS = this.#o.minTtlS;
    try {
      const answers = await this.#lookup(spec.host);
      const now = this.#now();
      for (const a of answers) {
        const ttl = this.#clamp(a.ttl);
        this.#hold(index, spec, a.address, now + (ttl + this.#o.minTtlS) * 1000);
      }
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

  #hold(index: number, spec: DestinationSpec, address: string, until: number): void {
    const k = key(address, spec.port);
    let h = this.#held.get(k);
    if (!h) {
      h = { provider: spec.provider, holders: new Map() };
      this.#held.set(k, h);
      this.#sink.add(address, spec.port);
    }
    h.holders.set(index, Math.max(until, h.holders.get(index) ?? 0));
  }

  #extend(index: number, until: number): void {
    for (const h of this.#held.values()) {
      const held = h.holders.get(index);
      if (held !== undefined && held < until) h.holders.set(index, until);
    }
  }

  #expire(): void {
    const now = this.#now();
    for (const [k, h] of this.#held) {
      for (const [index, until] of h.holders) if (until <= now) h.holders.delete(index);
      if (h.holders.size > 0) continue;
      this.#held.delete(k);
      const cut = k.lastIndexOf('|');
      this.#sink.remove(k.slice(0, cut), Number(k.slice(cut + 1)));
    }
  }
}

/** host:port or [v6]:port, as the config writes destinations. */
export function parseHostPort(text: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:\s]+):(\d+)$/.exec(text);
  if (!m) throw new Error(`not host:port: ${text}`);
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`port out of range in ${text}`);
  return { host: m[1]!, port };
}
