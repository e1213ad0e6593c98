import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const SUB_MS_BUCKETS = [0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** Label children looked up once per label combination, so the hot path skips prom-client's label hashing. */
class Bound<T> {
  readonly #children = new Map<string, T>();
  constructor(readonly bind: (key: string) => T) {}
  get(key: string): T {
    let child = this.#children.get(key);
    if (child === undefined) {
      child = this.bind(key);
      this.#children.set(key, child);
    }
    return child;
  }
}

/** The data plane's metrics: counters and histograms updated in place, exported by the control API. */
export class ProxyMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'provider' | 'outcome' | 'reason'>;
  readonly overhead: Histogram<'provider'>;
  readonly fragmentOverhead: Histogram;
  readonly upstreamSeconds: Histogram<'provider'>;
  readonly streamsCut: Counter<'reason'>;
  readonly inFlight: Gauge;

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.requests = new Counter({
      name: 'altrace_requests_total',
      help: 'Data-plane requests by provider, outcome and reason code.',
      labelNames: ['provider', 'outcome', 'reason'],
      registers: [registry],
    });
    this.overhead = new Histogram({
      name: 'altrace_proxy_overhead_seconds',
      help: 'Time the proxy itself added to a request, excluding upstream time.',
      labelNames: ['provider'],
      buckets: SUB_MS_BUCKETS,
      registers: [registry],
    });
    this.fragmentOverhead = new Histogram({
      name: 'altrace_fragment_overhead_seconds',
      help: 'Time from an upstream stream chunk arriving to its fragments being written to the agent.',
      buckets: SUB_MS_BUCKETS,
      registers: [registry],
    });
    this.upstreamSeconds = new Histogram({
      name: 'altrace_upstream_seconds',
      help: 'Upstream time to response headers (streams) or whole body.',
      labelNames: ['provider'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.streamsCut = new Counter({
      name: 'altrace_streams_cut_total',
      help: 'Streams ended by Altrace before upstream finished, by reason code.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.inFlight = new Gauge({ name: 'altrace_requests_in_flight', help: 'Data-plane requests in flight.', registers: [registry] });
  }

  readonly #requestsBy = new Bound((k) => {
    const [provider, outcome, reason] = k.split('|') as [string, string, string];
    return this.requests.labels({ provider, outcome, reason });
  });
  readonly #overheadBy = new Bound((provider) => this.overhead.labels({ provider }));
  readonly #upstreamBy = new Bound((provider) => this.upstreamSeconds.labels({ provider }));

  countRequest(provider: string, outcome: string, reason: string): void {
    this.#requestsBy.get(`${provider}|${outcome}|${reason}`).inc();
  }

  observeOverhead(provider: string, seconds: number): void {
    this.#overheadBy.get(provider).observe(seconds);
  }

  observeUpstream(provider: string, seconds: number): void {
    this.#upstreamBy.get(provider).observe(seconds);
  }
}
