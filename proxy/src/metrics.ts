import { Counter, Gauge, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.js';

const SUB_MS_BUCKETS = [0.00005, 0.0001, 0.0002, 0.0003, 0.0005, 0.00075, 0.001, 0.0015, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** The data plane's metrics: counters and histograms updated in place, exported by the control API. */
export class ProxyMetrics {
  readonly registry: Registry;
  readonly requests: FastCounter;
  readonly overhead: FastHistogram;
  readonly fragmentOverhead: FastHistogram;
  readonly upstreamSeconds: FastHistogram;
  readonly streamsCut: Counter<'reason'>;
  readonly inFlight: Gauge;
  readonly authFailures: Counter<'port'>;
  readonly protocolErrors: Counter<'listener' | 'reason'>;
  readonly bypassAttempts: Counter<'verdict' | 'agent'>;
  readonly mcpEgressRefused: Counter<'server'>;

  constructor(registry = new Registry()) {
    this.registry = registry;
    this.requests = new FastCounter('altrace_requests_total', 'Data-plane requests by provider, outcome and reason code.', ['provider', 'outcome', 'reason'], registry);
    this.overhead = new FastHistogram('altrace_proxy_overhead_seconds', 'Time the proxy itself added to a request, excluding upstream time.', SUB_MS_BUCKETS, 'provider', registry);
    this.fragmentOverhead = new FastHistogram(
      'altrace_fragment_overhead_seconds',
      'Time a stream fragment stays in the proxy: from its bytes arriving from upstream to its write to the agent completing (queueing, scanning and backpressure included).',
      SUB_MS_BUCKETS,
      null,
      registry,
    );
    this.upstreamSeconds = new FastHistogram(
      'altrace_upstream_seconds',
      'Upstream time to response headers (streams) or whole body.',
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      'provider',
      registry,
    );
    this.streamsCut = new Counter({
      name: 'altrace_streams_cut_total',
      help: 'Streams ended by Altrace before upstream finished, by reason code.',
      labelNames: ['reason'],
      registers: [registry],
    });
    this.inFlight = new Gauge({ name: 'altrace_requests_in_flight', help: 'Data-plane requests in flight.', registers: [registry] });
    this.authFailures = new Counter({
      name: 'altrace_auth_failures_total',
      help: 'Failed authentication: unknown virtual keys (port proxy), unknown or missing operator tokens (port control), and attempts refused while a source was throttled (port *_throttled).',
      labelNames: ['port'],
      registers: [registry],
    });
    this.bypassAttempts = new Counter({
      name: 'altrace_bypass_attempts_total',
      help: 'Attempts to reach a destination past the proxy, stopped in the kernel: packets the backstop dropped (bypass_dropped, strict_dropped) and connects strict mode refused, by verdict and agent (or shadow id).',
      labelNames: ['verdict', 'agent'],
      registers: [registry],
    });
    this.mcpEgressRefused = new Counter({
      name: 'altrace_mcp_egress_refused_total',
      help: 'Connects and datagrams of MCP servers launched by altrace mcp wrap that the kernel refused: outside the egress their registry entry declares, by server.',
      labelNames: ['server'],
      registers: [registry],
    });
    this.protocolErrors = new Counter({
      name: 'altrace_protocol_errors_total',
      help: 'Connections answered and closed for an HTTP protocol error (malformed request, oversized headers, a client too slow to send its request), by listener and reason code.',
      labelNames: ['listener', 'reason'],
      registers: [registry],
    });
  }

  countRequest(provider: string, outcome: string, reason: string): void {
    this.requests.inc(provider, outcome, reason);
  }

  observeOverhead(provider: string, seconds: number): void {
    this.overhead.observe(seconds, provider);
  }

  observeUpstream(provider: string, seconds: number): void {
    this.upstreamSeconds.observe(seconds, provider);
  }
}
