import { randomBytes } from 'node:crypto';
import type { ApprovalAnswer, ApprovalAsk, ApprovalDesk, PinProposal } from '../../../proxy/src/index.js';
import { canSeeTeam, requireTeam } from './team-scope.js';
import type { Operator } from './operator.js';
import { ControlError, notOneOf } from '../errors.js';
import type { ApprovalRecord, ApprovalStatus } from '../state/store.js';
import type { ServiceStore } from '../state/service-store.js';
import type { PinReviewService } from './pin-review-service.js';

interface Waiting {
  record: ApprovalRecord;
  arguments: string | null;
  resolve: (a: ApprovalAnswer) => void;
  timer: NodeJS.Timeout;
}

/**
 * Where a followed node's approvals live: its control plane, which stores the question and hears
 * the operator (docs/fleet.md, "What else is shared"). The answer comes back as a change the
 * node applies (decidedElsewhere).
 */
export interface RemoteApprovals {
  /** Resolves once the control plane has stored the question; rejects when it cannot be asked. */
  open(record: ApprovalRecord, args: string | null): Promise<void>;
  /** Tells the control plane nobody answered in time (best effort: the request is refused anyway). */
  expire(id: string, reason: string, at: number): void;
}

export const APPROVAL_STATUSES: ReadonlySet<string> = new Set(['pending', 'approved', 'denied', 'expired', 'all']);

/**
 * Human approval gates, agent side. A gate's question is on disk (pending) before the request
 * starts to wait; an operator's decision is on disk before the waiting request proceeds and
 * before the operator's call is acknowledged; a timeout is recorded as `expired`. The tool
 * call's arguments, which the operator needs to judge, live in memory only while it waits.
 */
export class ApprovalService implements ApprovalDesk {
  readonly #waiting = new Map<string, Waiting>();
  /** Control plane: the arguments of questions asked by nodes, while they are pending (memory only). */
  readonly #remoteArguments = new Map<string, string | null>();
  /** Set on a followed node: questions go to the control plane instead of the store. */
  remote: RemoteApprovals | null = null;
  /** Set on a single node: an approved MCP pin review becomes the tool's pin, in the decision's transaction. */
  pinReviews: PinReviewService | null = null;

  constructor(
    private readonly store: ServiceStore,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * The service, once the approvals the previous process left pending are marked expired — on a
   * node, whose requests waited on them; a control-plane replica (`leftovers: 'keep'`) holds the
   * fleet's, whose requests wait on nodes that may still be running.
   */
  static async open(store: ServiceStore, now: () => number = Date.now, leftovers: 'expire' | 'keep' = 'expire'): Promise<ApprovalService> {
    if (leftovers === 'expire') await store.expirePendingApprovals(now());
    return new ApprovalService(store, now);
  }

  async ask(a: ApprovalAsk): Promise<ApprovalAnswer> {
    const createdAt = this.now();
    const record: ApprovalRecord = {
      id: `apr_${randomBytes(9).toString('base64url')}`,
      status: 'pending',
      createdAt,
      expiresAt: createdAt + a.timeoutMs,
      requestId: a.requestId,
      agent: a.agent,
      team: a.team,
      keyId: a.keyId,
      run: a.run,
      contract: a.contract,
      rule: a.rule,
      kind: a.kind,
      subject: a.subject,
      decidedAt: null,
      decidedBy: null,
      reason: null,
    };
    // Waiting from here, so a shutdown during the write below answers it too.
    let resolve!: (a: ApprovalAnswer) => void;
    const answered = new Promise<ApprovalAnswer>((r) => (resolve = r));
    const timer = setTimeout(() => void this.#expire(record.id, `no decision within ${a.timeoutMs / 1000} s`), a.timeoutMs);
    this.#waiting.set(record.id, { record, arguments: a.arguments, resolve, timer });
    try {
      // The request holds for a human anyway: its question is on disk before anyone can answer it.
      if (this.remote) await this.remote.open(record, a.arguments);
      else await this.store.insertApproval(record);
    } catch (err) {
      clearTimeout(timer);
      this.#waiting.delete(record.id);
      throw err;
    }
    return answered;
  }

  async #settle(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string | null, reason: string | null): Promise<ApprovalRecord | null> {
    const at = this.now();
    // On disk first: the waiting request proceeds only on a decision that survives a crash.
    const reviews = this.pinReviews;
    if (reviews) {
      const applied = await this.store.transaction(async (tx) => {
        const approval = await tx.getApproval(id);
        if (!approval || !(await tx.decideApproval(id, status, by, reason, at))) return false;
        return (await reviews.decided(tx, approval, status, by, at)) ?? true;
      });
      if (applied === false) return null;
      if (applied !== true) applied.apply();
    } else if (!(await this.store.decideApproval(id, status, by, reason, at))) return null;
    this.#remoteArguments.delete(id);
    const w = this.#waiting.get(id);
    if (w) {
      clearTimeout(w.timer);
      this.#waiting.delete(id);
      w.resolve({ id, outcome: status === 'approved' ? 'approved' : status === 'denied' ? 'denied' : 'expired', by, reason });
    }
    return await this.store.getApproval(id);
  }

  /** A timeout or shutdown: the request is refused even if the store cannot record it (fail closed). */
  async #expire(id: string, reason: string): Promise<void> {
    if (this.remote) this.remote.expire(id, reason, this.now());
    else {
      try {
        if (await this.#settle(id, 'expired', null, reason)) return;
      } catch {
        // Recorded as pending on disk; the next start marks it expired.
      }
    }
    const w = this.#waiting.get(id);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiting.delete(id);
    w.resolve({ id, outcome: 'expired', by: null, reason });
  }

  /**
   * A decision made elsewhere, learned from the fleet's change log: a followed node releases the
   * request waiting on it; a replica forgets the arguments it held for it.
   */
  decidedElsewhere(r: ApprovalRecord): void {
    if (r.status === 'pending') return;
    this.#remoteArguments.delete(r.id);
    const w = this.#waiting.get(r.id);
    if (!w) return;
    clearTimeout(w.timer);
    this.#waiting.delete(r.id);
    w.resolve({ id: r.id, outcome: r.status, by: r.decidedBy, reason: r.reason });
  }

  /** Control plane: a node's question, stored (pending); its arguments kept here while it waits. */
  async openRemote(record: ApprovalRecord & { pin?: unknown }, args: string | null): Promise<void> {
    if (record.status !== 'pending' || !/^apr_[A-Za-z0-9_-]{1,64}$/.test(record.id)) throw new ControlError('ALT_INVALID_FIELD', `approval ${JSON.stringify(String(record.id).slice(0, 80))} from a node is not a pending approval`, 'id');
    if (record.kind === 'mcp-pin') return this.#openPinReview(record);
    await this.store.insertApproval(record);
    this.#remoteArguments.set(record.id, args);
  }

  /**
   * Control plane: a node's MCP pin review, stored with its proposal — once per change, however
   * many nodes list the changed tool, or how often one asks again after a restart.
   */
  async #openPinReview(r: ApprovalRecord & { pin?: unknown }): Promise<void> {
    const p = proposalOf(r.pin);
    if (!p) throw new ControlError('ALT_INVALID_FIELD', `mcp-pin approval ${r.id} from a node carries no valid proposal`, 'pin');
    const { pin: _sent, ...record } = r;
    await this.store.transaction(async (tx) => {
      const asked = await tx.listPinProposals();
      if (asked.some((q) => q.status !== 'expired' && q.server === p.server && q.tool === p.tool && q.model === p.model && q.structure === p.structure)) return;
      await tx.insertApproval(record);
      await tx.insertPinProposal({ approvalId: record.id, ...p });
    });
  }

  /** Control plane: a node's question expired unanswered; false when it was decided first. */
  async expireRemote(id: string, reason: string, at: number): Promise<boolean> {
    this.#remoteArguments.delete(id);
    return await this.store.decideApproval(id, 'expired', null, reason, at);
  }

  async decide(op: Operator, id: string, decision: 'approved' | 'denied', body: unknown): Promise<ApprovalRecord> {
    const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
    for (const k of Object.keys(b)) if (k !== 'reason') throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field`, k);
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500)) {
      throw new ControlError('ALT_INVALID_FIELD', 'reason must be a string of at most 500 characters', 'reason');
    }
    const record = await this.get(op, id);
    requireTeam(op, record.team, 'id');
    if (record.status !== 'pending') throw new ControlError('ALT_APPROVAL_DECIDED', `approval ${id} is already ${record.status}`, 'id');
    const decided = await this.#settle(id, decision, op.name, (b.reason as string | undefined) ?? null);
    if (!decided) throw new ControlError('ALT_APPROVAL_DECIDED', `approval ${id} was decided meanwhile`, 'id');
    return decided;
  }

  async get(op: Operator, id: string): Promise<ApprovalRecord> {
    const r = await this.store.getApproval(id);
    // Another team's approval is reported as unknown, not as forbidden.
    if (!r || !canSeeTeam(op, r.team)) throw new ControlError('ALT_NOT_FOUND', `no approval ${id}`, 'id');
    return r;
  }

  async list(op: Operator, status: string | null, limit: number): Promise<ApprovalRecord[]> {
    const s = status ?? 'pending';
    if (!APPROVAL_STATUSES.has(s)) throw new ControlError('ALT_INVALID_FIELD', notOneOf('status', s, APPROVAL_STATUSES), 'status');
    // A team token's limit counts its own team's approvals: the filter is in the query.
    return await this.store.listApprovals(s === 'all' ? null : (s as ApprovalStatus), op.team, limit);
  }

  /** What an mcp-pin review would pin, for the operator deciding on it. */
  async pinProposal(id: string): Promise<Record<string, unknown> | null> {
    const p = await this.store.getPinProposal(id);
    return p ? { server: p.server, tool: p.tool, change: p.change, model: p.model, structure: p.structure, read_only: p.readOnly, destructive: p.destructive } : null;
  }

  /** The arguments of a call still waiting, for the operator deciding on it. */
  argumentsOf(id: string): string | null {
    return this.#waiting.get(id)?.arguments ?? this.#remoteArguments.get(id) ?? null;
  }

  get waiting(): number {
    return this.#waiting.size;
  }

  /** Shutdown: every waiting request is answered (expired) so none hangs. */
  async close(): Promise<void> {
    await Promise.all([...this.#waiting.keys()].map((id) => this.#expire(id, 'the agent is shutting down')));
  }
}

export function approvalView(r: ApprovalRecord, args: string | null) {
  return {
    id: r.id,
    status: r.status,
    agent: r.agent,
    team: r.team,
    key_id: r.keyId,
    request_id: r.requestId,
    run: r.run,
    contract: r.contract,
    rule: r.rule,
    kind: r.kind,
    subject: r.subject,
    arguments: args,
    created: new Date(r.createdAt).toISOString(),
    expires: new Date(r.expiresAt).toISOString(),
    decided: r.decidedAt ? new Date(r.decidedAt).toISOString() : null,
    decided_by: r.decidedBy,
    reason: r.reason,
  };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** A proposal as a node sends it, checked field by field (a node's word is input like any other). */
function proposalOf(v: unknown): PinProposal | null {
  if (typeof v !== 'object' || v === null) return null;
  const p = v as Record<string, unknown>;
  const hint = (x: unknown) => x === null || typeof x === 'boolean';
  if (typeof p.server !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(p.server) || typeof p.tool !== 'string' || p.tool.length === 0 || p.tool.length > 128) return null;
  if (typeof p.model !== 'string' || !DIGEST.test(p.model) || typeof p.structure !== 'string' || !DIGEST.test(p.structure) || !hint(p.readOnly) || !hint(p.destructive)) return null;
  if (p.change !== 'changed' && p.change !== 'new') return null;
  return { server: p.server, tool: p.tool, model: p.model, structure: p.structure, readOnly: p.readOnly as boolean | null, destructive: p.destructive as boolean | null, change: p.change };
}
