// The SIEM sinks of an agent or replica (siem.sinks): one shipper per sink over its audit log
// (syslog over TLS, OCSF or OTLP logs over HTTPS),
// with their metrics read when Prometheus scrapes.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../../../proxy/src/index.js';
import { auditPaths } from '../audit/files.js';
import type { Config } from '../config/config.js';
import type { Origin } from './formats.js';
import { HttpTransport } from './http-transport.js';
import { Shipper } from './shipper.js';
import { SyslogTransport } from './syslog-transport.js';

export interface Siem {
  shippers: Shipper[];
  /** Why new requests wait (a sink that blocks when full is past its cap), or null. */
  refusal(): string | null;
  stop(): void;
}

export function startSiem(config: Config, origin: Origin, logger: Logger, registry: Registry): Siem {
  const shippers = config.siem.sinks.map((sink) => new Shipper(sink, sink.type === 'syslog' ? new SyslogTransport(sink, origin) : new HttpTransport(sink, origin), auditPaths(config.state_dir).records, config.state_dir, logger));
  if (shippers.length > 0) {
    const registers = [registry];
    const each = (metric: Counter | Gauge, pick: (s: Shipper) => number) => {
      metric.reset();
      for (const s of shippers) (metric as Gauge).set({ sink: s.sinkName }, pick(s));
    };
    new Gauge({ name: 'altrace_siem_sent_total', help: 'Audit records written to each SIEM sink (a record sent again after a broken connection counts again)', labelNames: ['sink'], registers, collect() { each(this, (s) => s.counts.sent); } });
    new Gauge({ name: 'altrace_siem_dropped_total', help: 'Audit records a SIEM sink skipped because it was more than max_lag_records behind (when_full: drop_oldest)', labelNames: ['sink'], registers, collect() { each(this, (s) => s.counts.dropped); } });
    new Gauge({ name: 'altrace_siem_lag_records', help: 'Audit records not yet written to each SIEM sink', labelNames: ['sink'], registers, collect() { each(this, (s) => s.counts.lag); } });
    new Gauge({ name: 'altrace_siem_full', help: '1 while a SIEM sink is more than max_lag_records behind (when_full: block holds new requests back then; drop_oldest skips)', labelNames: ['sink'], registers, collect() { each(this, (s) => (s.full ? 1 : 0)); } });
    new Gauge({ name: 'altrace_siem_delivered_seq', help: 'The last audit sequence number each SIEM sink confirmed', labelNames: ['sink'], registers, collect() { each(this, (s) => s.delivered); } });
  }
  for (const s of shippers) s.start();
  const blocking = shippers.filter((s) => s.blocksWhenFull);
  return {
    shippers,
    refusal: () => {
      for (const s of blocking) if (s.full) return `SIEM sink ${s.sinkName} is ${s.counts.lag} records behind (max_lag_records ${s.cap}); new requests wait until it catches up`;
      return null;
    },
    stop: () => shippers.forEach((s) => s.stop()),
  };
}
