// Audit records as OpenTelemetry logs (OTLP/HTTP, JSON encoding): one log record each, its body
// the record, its attributes what a query filters on (node, sequence number, kind, outcome,
// reason, agent, operator).
import type { AuditRecord } from '../audit/records.js';
import { recordJson } from '../audit/records.js';
import { classify, type Origin } from './formats.js';

const SEVERITY = { emergency: [21, 'FATAL'], alert: [18, 'ERROR2'], critical: [17, 'ERROR'], error: [17, 'ERROR'], warning: [13, 'WARN'], notice: [10, 'INFO2'], informational: [9, 'INFO'] } as const;

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });

export function otlpLogs(records: AuditRecord[], o: Origin): Record<string, unknown> {
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'altrace'), str('service.version', o.version), str('host.name', o.hostname), str('altrace.node', o.node)] },
        scopeLogs: [
          {
            scope: { name: 'altrace.audit', version: o.version },
            logRecords: records.map((r) => {
              const c = classify(r);
              const [number, text] = SEVERITY[c.severity];
              const nanos = `${BigInt(r.time_unix_ms) * 1_000_000n}`;
              return {
                timeUnixNano: nanos,
                observedTimeUnixNano: nanos,
                severityNumber: number,
                severityText: text,
                body: { stringValue: JSON.stringify(recordJson(r)) },
                attributes: [
                  str('altrace.node', o.node),
                  { key: 'altrace.seq', value: { intValue: String(r.seq) } },
                  str('altrace.kind', c.kind),
                  str('altrace.outcome', c.outcome),
                  str('altrace.reason', c.reason),
                  ...(r.principal?.agent ? [str('gen_ai.agent.name', r.principal.agent)] : []),
                  ...(r.control?.operator ? [str('altrace.operator', r.control.operator), str('altrace.action', r.control.action)] : []),
                ],
              };
            }),
          },
        ],
      },
    ],
  };
}
