// Audit records as a SIEM reads them (docs/security.md, "SIEM"): syslog (RFC 5424, framed for
// TLS transport by octet counting, RFC 5425/6587) and ArcSight CEF. Every message carries the
// node and the record's sequence number, so a receiver that gets a record twice (delivery is at
// least once) can tell.
import type { AuditRecord } from '../audit/records.js';
import { recordJson } from '../audit/records.js';

/** The IANA private enterprise number used for Altrace's structured data (the documentation one of RFC 5612). */
const PEN = 32473;
const APP = 'altrace';
/** syslog facility 13: log audit. */
const FACILITY = 13;
const SEVERITY = { emergency: 0, alert: 1, critical: 2, error: 3, warning: 4, notice: 5, informational: 6 } as const;

export interface Origin {
  /** The node (or replica) whose log the record is from. */
  node: string;
  hostname: string;
  version: string;
}

/** What the record is, for the SIEM: its kind, a name, an outcome, how severe. */
export function classify(r: AuditRecord): { kind: 'decision' | 'control'; name: string; outcome: string; reason: string; severity: keyof typeof SEVERITY } {
  if (r.decision?.request_id) {
    const d = r.decision;
    const refused = d.outcome !== 'allow' && d.outcome !== 'warn';
    return { kind: 'decision', name: `${d.provider} ${d.operation ?? 'request'} ${d.outcome}`, outcome: d.outcome, reason: d.reason, severity: d.outcome === 'kill' ? 'alert' : refused ? 'warning' : d.outcome === 'warn' ? 'notice' : 'informational' };
  }
  const c = r.control!;
  const failed = c.status >= 400;
  // Security events: refusals of the control API, lockouts, kills.
  const severity = c.action === 'LOCKOUT' || /^POST \/kill\b|AltraceKillSwitch/.test(c.action) ? 'warning' : failed ? 'warning' : 'notice';
  return { kind: 'control', name: c.action, outcome: failed ? 'refused' : 'done', reason: c.error || (failed ? String(c.status) : 'ok'), severity };
}

/** An SD-PARAM value: ", \ and ] escaped (RFC 5424 §6.3.3). */
const sdValue = (v: string) => v.replace(/[\\"\]]/g, (c) => `\\${c}`);
/** A header field: printable US-ASCII without spaces, at most `max` long, or the nil value. */
const headerField = (v: string, max: number) => v.replace(/[^\x21-\x7e]/g, '_').slice(0, max) || '-';

/** One RFC 5424 message (without framing). */
export function rfc5424(r: AuditRecord, o: Origin): string {
  const c = classify(r);
  const pri = FACILITY * 8 + SEVERITY[c.severity];
  const time = new Date(r.time_unix_ms).toISOString();
  const params: [string, string][] = [
    ['node', o.node],
    ['seq', String(r.seq)],
    ['kind', c.kind],
    ['outcome', c.outcome],
    ['reason', c.reason],
    ...(r.principal?.agent ? ([['agent', r.principal.agent], ['team', r.principal.team ?? '']] as [string, string][]) : []),
    ...(r.control?.operator ? ([['operator', r.control.operator]] as [string, string][]) : []),
  ];
  const sd = `[${APP}@${PEN} ${params.map(([k, v]) => `${k}="${sdValue(v)}"`).join(' ')}]`;
  return `<${pri}>1 ${time} ${headerField(o.hostname, 255)} ${APP} - ${c.kind} ${sd} ${JSON.stringify(recordJson(r))}`;
}

/** RFC 6587 octet counting (the framing RFC 5425 prescribes over TLS): the byte length, a space, the message. */
export function octetCounted(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}

/** A CEF header field: | and \ escaped. */
const cefHeader = (v: string) => v.replace(/[\\|]/g, (c) => `\\${c}`).replace(/[\r\n]/g, ' ');
/** A CEF extension value: \ and = escaped, line breaks as \n. */
const cefValue = (v: string) => v.replace(/[\\=]/g, (c) => `\\${c}`).replace(/\r?\n/g, '\\n');
const CEF_SEVERITY = { emergency: 10, alert: 9, critical: 8, error: 7, warning: 6, notice: 3, informational: 1 } as const;

/** One CEF line (ArcSight Common Event Format 0): the header, then key=value extensions. */
export function cef(r: AuditRecord, o: Origin): string {
  const c = classify(r);
  const ext: [string, string][] = [
    ['rt', String(r.time_unix_ms)],
    ['dvchost', o.hostname],
    ['externalId', String(r.seq)],
    ['cs1Label', 'node'],
    ['cs1', o.node],
    ['outcome', c.outcome],
    ['reason', c.reason],
    ...(r.principal?.agent ? ([['suser', r.principal.agent], ['cs2Label', 'team'], ['cs2', r.principal.team ?? '']] as [string, string][]) : []),
    ...(r.control?.operator ? ([['suser', r.control.operator], ['act', r.control.action], ...(r.control.target ? [['duser', r.control.target]] : [])] as [string, string][]) : []),
    ...(r.decision?.request_id ? ([['requestClientApplication', r.decision.provider], ['cs3Label', 'model'], ['cs3', r.decision.model ?? ''], ['cs4Label', 'request_id'], ['cs4', r.decision.request_id]] as [string, string][]) : []),
  ];
  const signature = c.kind === 'decision' ? `decision:${c.reason}` : `control:${c.outcome}`;
  return `CEF:0|Altrace|Altrace|${cefHeader(o.version)}|${cefHeader(signature)}|${cefHeader(c.name)}|${CEF_SEVERITY[c.severity]}|${ext.map(([k, v]) => `${k}=${cefValue(v)}`).join(' ')}`;
}
