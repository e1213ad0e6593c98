// The fleet's Prometheus metrics (docs/fleet.md, "Operating it"), on the registry the control
// API's /metrics serves: a replica's node streams, a node's stream to its control plane.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export class FleetMetrics {
  /** Replica: node streams open now. */
  readonly nodeStreams: Gauge;
  /** Node: 1 while its stream to the control plane is up. */
  readonly streamUp: Gauge;
  /** Both: the change version applied (a replica's from PostgreSQL, a node's from its stream). */
  readonly appliedVersion: Gauge;
  /** Node: 1 while it has heard nothing for longer than fleet.max_staleness (or has no state yet). */
  readonly stale: Gauge;
  /** Node: from a change's write (just before its commit) to its application here. */
  readonly propagation: Histogram;
  /** Node: streams opened after the first (a replica died, a gap, a partition healed). */
  readonly reconnects: Counter;
  /** Replica: budget leases granted to nodes, returned by them, expired (charged in full). */
  readonly leaseGrants: Counter;
  readonly leaseReturns: Counter;
  readonly leaseExpiries: Counter;
  /** Node: USD it holds in budget leases now. */
  readonly leasesHeld: Gauge;
  /** Both: streams ended by a refusal, by code. */
  readonly refusals: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.nodeStreams = new Gauge({ name: 'altrace_fleet_node_streams', help: 'Node streams this control-plane replica holds open', registers });
    this.streamUp = new Gauge({ name: 'altrace_fleet_stream_up', help: "1 while this node's stream to its control plane is up", registers });
    this.appliedVersion = new Gauge({ name: 'altrace_fleet_applied_version', help: 'The fleet change version applied here', registers });
    this.stale = new Gauge({ name: 'altrace_fleet_stale', help: '1 while this node is stale: no word from its control plane for longer than fleet.max_staleness, or no state yet', registers });
    this.propagation = new Histogram({
      name: 'altrace_fleet_propagation_seconds',
      help: "From a change's write on the control plane (just before its commit) to its application on this node",
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.reconnects = new Counter({ name: 'altrace_fleet_reconnects_total', help: 'Node streams opened after the first', registers });
    this.leaseGrants = new Counter({ name: 'altrace_fleet_lease_grants_total', help: 'Budget leases granted to nodes', registers });
    this.leaseReturns = new Counter({ name: 'altrace_fleet_lease_returns_total', help: 'Budget leases returned by nodes', registers });
    this.leaseExpiries = new Counter({ name: 'altrace_fleet_lease_expiries_total', help: 'Budget leases that expired unreturned and were charged in full', registers });
    this.leasesHeld = new Gauge({ name: 'altrace_fleet_leases_held_usd', help: 'USD this node holds in budget leases', registers });
    this.refusals = new Counter({ name: 'altrace_fleet_refusals_total', help: 'Node streams ended by a refusal, by reason code', labelNames: ['code'], registers });
  }
}
