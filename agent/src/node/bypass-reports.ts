import type { BpfEvent } from '../bpf/index.js';
import type { SeenWorkload } from './registry.js';

/** A packet a backstop dropped, or a connect strict mode refused: an attempt to get past the proxy. */
export interface BypassReport {
  verdict: 'bypass_dropped' | 'strict_refused' | 'strict_dropped';
  /** The workload it came from, when it is known (by cgroup, or by the packet's source address). */
  workload: SeenWorkload | null;
  /** Where the backstop saw it: a host-side interface's name, or `cgroup` for the cgroup backstop and the connect hook. */
  seenAt: string;
  source: string | null;
  destination: string;
  protocol: string;
  provider: string | null;
  /** Attempts folded into this report since the last one for the same workload and destination. */
  count: number;
}

const QUIET_MS = 60_000;

/**
 * Turns the kernel's bypass events into reports, one per workload, verdict and destination per
 * minute (with the count folded in): a flood of raw packets is one audit record a minute, not
 * one per packet. Every event is still counted in the metric and on the workload.
 */
export class BypassReporter {
  readonly #last = new Map<string, { at: number; folded: number }>();

  constructor(
    private readonly onReport: (r: BypassReport) => void,
    private readonly now: () => number = Date.now,
  ) {}

  handle(e: BpfEvent, workload: SeenWorkload | null, seenAt: string, provider: string | null): void {
    if (e.kind !== 'bypass_dropped' && e.kind !== 'strict_refused' && e.kind !== 'strict_dropped') return;
    if (workload) workload.bypassAttempts++;
    const source = e.source ? e.source.address : null;
    const destination = `${e.destination.address}:${e.destination.port}`;
    const key = `${workload?.id ?? source ?? seenAt}|${e.kind}|${e.destination.address}`;
    const last = this.#last.get(key);
    const now = this.now();
    if (last && now - last.at < QUIET_MS) {
      last.folded++;
      return;
    }
    if (this.#last.size > 10_000) this.#last.clear();
    this.#last.set(key, { at: now, folded: 0 });
    this.onReport({ verdict: e.kind, workload, seenAt, source, destination, protocol: e.protocol, provider, count: 1 + (last?.folded ?? 0) });
  }
}
