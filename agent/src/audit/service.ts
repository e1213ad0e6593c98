import { systemClock, type Clock, type DecisionRecord } from '../../../proxy/src/index.js';
import type { Operator } from '../services/operator.js';
import { requireRole } from '../services/team-scope.js';
import { AuditLog } from './audit-log.js';
import { auditPaths, readCheckpoints, readFrames } from './files.js';
import { decodeRecord, recordJson, type AuditEvent, type AuditRecord } from './records.js';
import { verifyAuditLog, type VerifyReport } from './verify.js';

export interface AuditQuery {
  agent?: string;
  team?: string;
  reason?: string;
  outcome?: string;
  kind?: 'decision' | 'control';
  /** Only records with a smaller sequence number (paging backwards). */
  before?: number;
  limit: number;
}

function present(v: string | null | undefined): string | undefined {
  return v === null || v === undefined || v === '' ? undefined : v;
}

/** The agent's audit trail: every decision and every control-API call, in one signed log. */
export class AuditService {
  private constructor(
    private readonly log: AuditLog,
    private readonly stateDir: string,
    private readonly contract: () => string,
    private readonly priceTable: () => string,
    private readonly now: Clock,
  ) {}

  static async open(stateDir: string, origin: string, contract: () => string, priceTable: () => string, onFailure: (m: string) => void, now: Clock = systemClock): Promise<AuditService> {
    const log = await AuditLog.open({ stateDir, origin, checkpointIntervalMs: 1000 }, onFailure);
    return new AuditService(log, stateDir, contract, priceTable, now);
  }

  get verifierKey(): string {
    return this.log.verifierKey;
  }

  decision(d: DecisionRecord): void {
    const event: AuditEvent = {
      time: d.time,
      decision: {
        request_id: d.requestId,
        provider: d.provider,
        upstream: present(d.upstream),
        operation: present(d.operation),
        model: present(d.model),
        stream: d.stream,
        outcome: d.outcome,
        reason: d.reason,
        stage: present(d.stage),
        detail: present(d.detail),
        status: d.status,
        contract: this.contract(),
        cost_usd: d.costUsd ?? 0,
        input_tokens: d.inputTokens ?? 0,
        output_tokens: d.outputTokens ?? 0,
        price_table: d.costUsd !== null ? this.priceTable() : undefined,
        warnings: d.warnings,
        function: present(d.fn),
        run: present(d.run),
        fragments: d.fragments,
        labels: d.labels,
        rules: d.rules,
        contracts: d.contracts,
      },
    };
    if (d.principal) {
      const pod = d.principal.pod;
      event.principal = {
        key_id: d.principal.keyId,
        agent: d.principal.agent,
        team: d.principal.team,
        cost_center: present(d.principal.costCenter),
        ...(pod ? { pod: `${pod.namespace}/${pod.name}`, namespace: pod.namespace, owner: present(pod.owner), service_account: present(pod.serviceAccount), node: present(pod.node) } : {}),
      };
    }
    this.log.append(event);
  }

  /** Records a control-API call; a state change is on disk before this resolves. */
  async control(op: Operator, action: string, target: string, status: number, error: string | null, durable: boolean): Promise<void> {
    const event: AuditEvent = {
      time: this.now(),
      control: { operator: op.name, operator_team: present(op.team), action, target: present(target), status, error: present(error) },
    };
    if (durable) await this.log.appendDurable(event);
    else this.log.append(event);
  }

  async checkpoint(): Promise<string | null> {
    return this.log.checkpoint();
  }

  /** The newest signed checkpoint on disk (its note and the tree size it covers), or null before the first. */
  async latestCheckpoint(): Promise<{ size: number; note: string } | null> {
    const { checkpoints } = readCheckpoints(auditPaths(this.stateDir).checkpoints);
    const last = checkpoints[checkpoints.length - 1];
    return last ? { size: last.size, note: last.note } : null;
  }

  /** Newest first, filtered; a team token sees its team's decisions and its team's control calls. */
  async query(op: Operator, q: AuditQuery): Promise<{ records: Record<string, unknown>[]; next_before: number | null }> {
    await this.log.checkpoint();
    const { records } = readFrames(auditPaths(this.stateDir).records);
    const out: Record<string, unknown>[] = [];
    let next: number | null = null;
    for (let i = Math.min(records.length, q.before ?? Infinity) - 1; i >= 0; i--) {
      const r = decodeRecord(records[i]!);
      if (!matches(r, op, q)) continue;
      if (out.length === q.limit) {
        next = i + 1;
        break;
      }
      out.push(recordJson(r));
    }
    return { records: out, next_before: next };
  }

  async *export(op: Operator): AsyncGenerator<string> {
    await this.log.checkpoint();
    const { records } = readFrames(auditPaths(this.stateDir).records);
    for (const bytes of records) {
      const r = decodeRecord(bytes);
      if (matches(r, op, { limit: Infinity })) yield JSON.stringify(recordJson(r)) + '\n';
    }
  }

  /** Checks the log as written so far (a checkpoint is forced first, so it covers every record). Admins and auditors: it reads every team's records. */
  async verify(op: Operator): Promise<VerifyReport> {
    requireRole(op, ['auditor'], 'verify the whole audit log');
    await this.log.checkpoint();
    return verifyAuditLog(this.stateDir, this.verifierKey, { tailIsWrite: true });
  }

  async close(): Promise<void> {
    await this.log.close();
  }
}

function matches(r: AuditRecord, op: Operator, q: Partial<AuditQuery>): boolean {
  const team = r.principal?.team || r.control?.operator_team || '';
  if (op.team !== null && team !== op.team) return false;
  if (q.kind === 'decision' && !r.decision?.request_id) return false;
  if (q.kind === 'control' && !r.control?.action) return false;
  if (q.agent && r.principal?.agent !== q.agent) return false;
  if (q.team && team !== q.team) return false;
  if (q.reason && r.decision?.reason !== q.reason) return false;
  if (q.outcome && r.decision?.outcome !== q.outcome) return false;
  return true;
}
