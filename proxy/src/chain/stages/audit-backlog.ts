import type { RequestStage } from '../stage.js';
import { block } from '../../core/verdict.js';

export const AUDIT_BACKLOG_STAGE_ID = 'audit-backlog';

/** Whether a SIEM sink that blocks when full (siem.sinks[].when_full: block) is full now: why, or null. */
export interface AuditBacklog {
  refusal(): string | null;
}

/**
 * A SIEM sink declared to block when full holds new requests back while it is more than its cap
 * behind: nothing is decided that the SIEM could not be told of. After the kill switches, so a
 * killed principal is told it is killed.
 */
export function auditBacklog(backlog: AuditBacklog): RequestStage {
  return {
    id: AUDIT_BACKLOG_STAGE_ID,
    band: 'kill',
    side: 'request',
    summary: 'audit backlog: while a SIEM sink that blocks when full is past its cap, new requests are refused (siem.sinks[].when_full: block)',
    evaluate() {
      const why = backlog.refusal();
      return why === null ? null : block(AUDIT_BACKLOG_STAGE_ID, 'ALT_AUDIT_BACKLOG', why);
    },
  };
}
