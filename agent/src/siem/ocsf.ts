// Audit records as OCSF 1.1 events (docs/security.md, "SIEM"): a refused or killed request is a
// Detection Finding (class 2004), every other decision and every control-API call an API
// Activity (class 6003). Each carries the node and the sequence number (metadata.uid,
// metadata.sequence) so a receiver can drop what it got twice.
import type { AuditRecord } from '../audit/records.js';
import { recordJson } from '../audit/records.js';
import { classify, type Origin } from './formats.js';

const SCHEMA = '1.1.0';
const SEVERITY_ID = { emergency: 6, alert: 5, critical: 5, error: 4, warning: 3, notice: 2, informational: 1 } as const;

/** The API activity a control call was: create, read, update, delete, or other. */
function activity(action: string): { id: number; name: string } {
  const method = action.split(' ')[0];
  if (method === 'POST') return { id: 1, name: 'Create' };
  if (method === 'GET') return { id: 2, name: 'Read' };
  if (method === 'PUT' || method === 'PATCH') return { id: 3, name: 'Update' };
  if (method === 'DELETE') return { id: 4, name: 'Delete' };
  return { id: 99, name: 'Other' };
}

export function ocsfEvent(r: AuditRecord, o: Origin): Record<string, unknown> {
  const c = classify(r);
  const metadata = { version: SCHEMA, uid: `${o.node}:${r.seq}`, sequence: r.seq, product: { name: 'Altrace', vendor_name: 'Altrace', version: o.version }, original_time: new Date(r.time_unix_ms).toISOString() };
  const severity_id = SEVERITY_ID[c.severity];
  const device = { hostname: o.hostname, name: o.node };
  if (c.kind === 'decision' && (c.outcome === 'block' || c.outcome === 'kill')) {
    const d = r.decision!;
    return {
      class_uid: 2004,
      class_name: 'Detection Finding',
      category_uid: 2,
      category_name: 'Findings',
      activity_id: 1,
      activity_name: 'Create',
      type_uid: 200401,
      time: r.time_unix_ms,
      severity_id,
      status_id: 1,
      metadata,
      device,
      finding_info: { uid: d.request_id, title: `${d.reason} (${d.stage ?? 'chain'})`, types: [d.reason], analytic: { name: d.stage ?? 'chain', type_id: 1, type: 'Rule' } },
      actor: { user: { name: r.principal?.agent ?? 'unknown', groups: r.principal?.team ? [{ name: r.principal.team }] : [] } },
      unmapped: recordJson(r),
    };
  }
  const act = c.kind === 'control' ? activity(r.control!.action) : { id: 99, name: 'Other' };
  const failed = c.outcome === 'refused' || (c.kind === 'decision' && c.outcome !== 'allow' && c.outcome !== 'warn');
  return {
    class_uid: 6003,
    class_name: 'API Activity',
    category_uid: 6,
    category_name: 'Application Activity',
    activity_id: act.id,
    activity_name: act.name,
    type_uid: 600300 + act.id,
    time: r.time_unix_ms,
    severity_id,
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    status_detail: c.reason,
    metadata,
    device,
    actor: { user: { name: r.control?.operator ?? r.principal?.agent ?? 'unknown' } },
    api: { operation: c.kind === 'control' ? r.control!.action : `${r.decision!.provider} ${r.decision!.operation ?? 'request'}`, service: { name: c.kind === 'control' ? 'altrace-control-api' : 'altrace-proxy' } },
    ...(r.control?.target ? { resources: [{ name: r.control.target }] } : {}),
    unmapped: recordJson(r),
  };
}
