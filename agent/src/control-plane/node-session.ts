// One node's stream on a replica (docs/fleet.md, "The node stream"): Welcome, the node's Hello,
// a snapshot when the node's version is not this replica's, then every change as it commits,
// with heartbeats both ways while nothing else moves.
import { randomBytes } from 'node:crypto';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { AgentLevel, BudgetScope, KillSwitch, Logger, SpendRow, Window } from '../../../proxy/src/index.js';
import { FLEET_CONTENT_TYPE, FrameDecoder, FrameError, FrameSequence, encodeFrame, type Frame } from '../fleet/frames.js';
import type { FleetMetrics } from '../fleet/metrics.js';
import { toWire } from '../follower/snapshot-file.js';
import type { Change, FleetAuditStore, FleetIdentityStore, LeaseStore, NodeReportStore, PgStore, SeenAgent } from '../state/postgres/index.js';
import type { ChangeFeed } from './change-feed.js';
import type { ApprovalService } from '../services/approval-service.js';
import type { ApprovalRecord } from '../state/store.js';

interface WireSeenAgent {
  id: string;
  agent: string;
  team: string;
  kind: string;
  first_seen: number;
  last_seen: number;
}

interface LeaseAsk {
  request_id: string;
  scope: string;
  target: string;
  window: string;
  window_start: string;
  usd: number;
}

/** A node that buffers more than this unread is dropped; it reconnects and takes a snapshot. */
const MAX_UNREAD_BYTES = 16 << 20;
/** How often a node's contact is written to PostgreSQL (its heartbeats come more often); sooner when its version moved. */
const CONTACT_WRITE_MS = 5_000;
const MOVED_WRITE_MS = 500;

export interface SessionDeps {
  feed: ChangeFeed;
  leases: LeaseStore;
  audit: FleetAuditStore;
  reports: NodeReportStore;
  /** Where a node's run events go to the other nodes. */
  runs: { publish(origin: string, events: Buffer): void };
  /** Where nodes' rule-driven level changes and spend are committed. */
  store: Pick<PgStore, 'transaction' | 'addSpend'>;
  /** fleet.lease_max_usd and fleet.lease_ttl_s. */
  leaseMaxUsd: number;
  leaseTtlMs: number;
  /** Where nodes' approval questions are stored and their timeouts recorded. */
  approvals: Pick<ApprovalService, 'openRemote' | 'expireRemote'>;
  fleet: FleetIdentityStore;
  replica: string;
  heartbeatMs: number;
  logger: Logger;
  metrics: FleetMetrics;
}

export class NodeSession {
  readonly #out: FrameSequence;
  #in: FrameSequence;
  readonly #decoder = new FrameDecoder();
  #unsubscribe: (() => void) | null = null;
  #timer: NodeJS.Timeout | null = null;
  #hello = false;
  #closed = false;
  #contactWrittenAt = 0;
  #contactWrittenVersion = -1;
  #version = '';
  /** The node's audit log (its verifier key); '' when it ships none. */
  #auditLog = '';
  appliedVersion = 0;
  lastHeardAt = Date.now();

  constructor(
    readonly nodeId: string,
    private readonly req: Http2ServerRequest,
    private readonly res: Http2ServerResponse,
    private readonly d: SessionDeps,
    private readonly onEnd: (s: NodeSession) => void,
  ) {
    const id = randomBytes(12).toString('base64url');
    this.#out = new FrameSequence(id);
    this.#in = new FrameSequence(id);
  }

  start(): void {
    this.res.writeHead(200, { 'content-type': FLEET_CONTENT_TYPE });
    this.#send({ welcome: { stream_id: this.#out.streamId, replica: this.d.replica, heartbeat_ms: this.d.heartbeatMs } });
    this.req.on('data', (chunk: Buffer) => this.#receive(chunk));
    this.req.on('end', () => this.close(null));
    this.req.on('error', () => this.close(null));
    this.res.on('close', () => this.close(null));
    this.#timer = setInterval(() => this.#tick(), this.d.heartbeatMs);
    this.#timer.unref();
  }

  /** Ends the stream; with a refusal, the node is told why in a last frame first. */
  close(refusal: { code: string; message: string } | null): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#timer) clearInterval(this.#timer);
    if (refusal) {
      this.d.metrics.refusals.inc({ code: refusal.code });
      this.d.logger.warn({ node: this.nodeId, code: refusal.code, err: refusal.message }, 'node stream refused');
      if (!this.res.writableEnded && !this.res.destroyed) this.res.write(encodeFrame({ ...this.#out.stamp(), refusal }));
    }
    if (!this.res.writableEnded && !this.res.destroyed) this.res.end();
    this.onEnd(this);
  }

  #send(body: Record<string, unknown>): void {
    if (this.#closed || this.res.destroyed) return;
    this.res.write(encodeFrame({ ...this.#out.stamp(), ...body }));
    if (this.res.writableLength > MAX_UNREAD_BYTES) this.close({ code: 'ALT_FLEET_FRAME_INVALID', message: `the node read nothing while ${this.res.writableLength} bytes waited; reconnect for a snapshot` });
  }

  #receive(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      for (const f of this.#decoder.push(chunk)) {
        this.#in.accept(f);
        this.#take(f);
        if (this.#closed) return;
      }
    } catch (err) {
      const message = (err as Error).message;
      this.close({ code: err instanceof FrameError ? 'ALT_FLEET_FRAME_INVALID' : 'ALT_INTERNAL', message });
    }
  }

  #take(f: Frame): void {
    this.lastHeardAt = Date.now();
    if (!this.#hello) {
      if (f.body !== 'hello') throw new FrameError(`the first frame must be hello, not ${f.body}`);
      return this.#greet(f.hello as { node_id: string; version: string; applied_version: number; audit_verifier_key: string });
    }
    if (f.body === 'heartbeat') {
      this.appliedVersion = (f.heartbeat as { applied_version: number }).applied_version;
      return this.#recordContact(false);
    }
    if (f.body === 'approval_open') return this.#openApproval(f.approval_open as { record: Buffer; arguments: string; has_arguments: boolean });
    if (f.body === 'approval_expire') {
      const e = f.approval_expire as { id: string; reason: string; at: number };
      this.d.approvals.expireRemote(e.id, e.reason, e.at).catch((err: unknown) => this.d.logger.error({ node: this.nodeId, approval: e.id, err: (err as Error).message }, 'approval expiry from a node not recorded'));
      return;
    }
    if (f.body === 'audit_batch') {
      if (!this.#auditLog) throw new FrameError('an audit batch from a node whose hello named no audit log');
      return void this.#storeAudit(f.audit_batch as { first_seq: number; framed: Buffer; checkpoint: string });
    }
    if (f.body === 'run_events') return this.d.runs.publish(this.nodeId, (f.run_events as { events: Buffer }).events);
    if (f.body === 'seen_agents') return void this.#seenAgents((f.seen_agents as { agents: WireSeenAgent[] }).agents);
    if (f.body === 'bpf_status') return void this.#bpfStatus((f.bpf_status as { status: Buffer }).status);
    if (f.body === 'node_level_change') return void this.#levelChange(f.node_level_change as { level: Buffer; kill: Buffer; release: boolean });
    if (f.body === 'spend_batch') return void this.#spend((f.spend_batch as { rows: Buffer }).rows);
    if (f.body === 'lease_request') return void this.#grant(f.lease_request as LeaseAsk);
    if (f.body === 'lease_return') return void this.#return(f.lease_return as { lease_id: string; spent_usd: number });
    if (f.body === 'lease_renew') return void this.#renew((f.lease_renew as { lease_id: string }).lease_id);
    // Audit batches, seen agents and bpf status are not taken yet (docs/fleet.md, Status).
  }

  /** Stored at least once: the ack names where the node continues (a lost ack means a resend, stored once). */
  async #storeAudit(b: { first_seq: number; framed: Buffer; checkpoint: string }): Promise<void> {
    try {
      const r = await this.d.audit.store({ log: this.#auditLog, nodeId: this.nodeId, firstSeq: b.first_seq, framed: b.framed, checkpoint: b.checkpoint || null, at: Date.now() });
      if (r.forks > 0) this.d.logger.error({ node: this.nodeId, forks: r.forks, from: b.first_seq }, "audit records received again with other bytes: the node's log was rewritten after shipping (kept as a fork)");
      this.#send({ audit_ack: { next_seq: r.nextSeq } });
    } catch (err) {
      this.d.logger.warn({ node: this.nodeId, err: (err as Error).message }, 'audit batch not stored; the node sends it again');
    }
  }

  async #seenAgents(agents: WireSeenAgent[]): Promise<void> {
    const seen = agents.map((a): SeenAgent => ({ id: a.id, agent: a.agent, team: a.team, kind: a.kind === 'shadow' ? 'shadow' : 'registered', firstSeen: a.first_seen, lastSeen: a.last_seen }));
    await this.d.reports.putSeenAgents(this.nodeId, seen, Date.now()).catch((err: unknown) => this.d.logger.warn({ node: this.nodeId, err: (err as Error).message }, 'node report not stored'));
  }

  async #bpfStatus(status: Buffer): Promise<void> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(status.toString('utf8'));
    } catch {
      return void this.d.logger.warn({ node: this.nodeId }, 'bpf status from a node is not JSON; ignored');
    }
    await this.d.reports.putBpfStatus(this.nodeId, parsed, Date.now()).catch((err: unknown) => this.d.logger.warn({ node: this.nodeId, err: (err as Error).message }, 'node report not stored'));
  }

  /** A node's enforcement rule changed a level: committed with its kill switch, it reaches every node. */
  async #levelChange(c: { level: Buffer; kill: Buffer; release: boolean }): Promise<void> {
    try {
      const level = JSON.parse(c.level.toString('utf8')) as AgentLevel;
      const kill = c.kill.length ? (JSON.parse(c.kill.toString('utf8')) as KillSwitch) : null;
      await this.d.store.transaction(async (tx) => {
        await tx.putAgentLevel(level);
        if (kill) await tx.putKill(kill);
        if (c.release) await tx.deleteKill('agent', level.agent);
      });
      this.d.logger.warn({ node: this.nodeId, agent: level.agent, level: level.level, by: level.setBy }, 'agent enforcement level changed by a node rule');
    } catch (err) {
      this.d.logger.error({ node: this.nodeId, err: (err as Error).message }, 'a level change from a node was not committed; it holds on that node only');
    }
  }

  async #spend(rows: Buffer): Promise<void> {
    try {
      await this.d.store.addSpend(JSON.parse(rows.toString('utf8')) as SpendRow[]);
    } catch (err) {
      this.d.logger.error({ node: this.nodeId, err: (err as Error).message }, "a node's spend was not recorded on the control plane (the node keeps it in its own store)");
    }
  }

  async #grant(a: LeaseAsk): Promise<void> {
    const refuse = (why: string) => this.#send({ lease_grant: { request_id: a.request_id, refused_reason: why } });
    try {
      const r = await this.d.leases.grant({ scope: a.scope as BudgetScope, target: a.target, window: a.window as Window, windowStart: a.window_start, nodeId: this.nodeId, wantUsd: a.usd, maxUsd: this.d.leaseMaxUsd, ttlMs: this.d.leaseTtlMs, now: Date.now() });
      if (!r.granted) return refuse(r.reason);
      this.d.metrics.leaseGrants.inc();
      this.#send({ lease_grant: { request_id: a.request_id, lease_id: r.lease.id, usd: r.lease.usd, expires_at: r.lease.expiresAt } });
    } catch (err) {
      this.d.logger.warn({ node: this.nodeId, err: (err as Error).message }, 'lease request refused');
      refuse((err as { code?: string }).code ?? 'ALT_INTERNAL');
    }
  }

  async #return(r: { lease_id: string; spent_usd: number }): Promise<void> {
    try {
      await this.d.leases.return(r.lease_id, r.spent_usd, Date.now());
      this.d.metrics.leaseReturns.inc();
    } catch (err) {
      this.d.logger.error({ node: this.nodeId, lease: r.lease_id, err: (err as Error).message }, 'lease return not recorded; the lease expires and is charged in full');
    }
  }

  async #renew(leaseId: string): Promise<void> {
    try {
      const r = await this.d.leases.renew(leaseId, this.d.leaseTtlMs, Date.now());
      this.#send({ lease_grant: r.renewed ? { request_id: `renew:${leaseId}`, lease_id: leaseId, usd: r.lease.usd, expires_at: r.lease.expiresAt } : { request_id: `renew:${leaseId}`, lease_id: leaseId, refused_reason: r.reason } });
    } catch (err) {
      // Unanswered, the node asks again; the lease expires if it never gets through.
      this.d.logger.warn({ node: this.nodeId, lease: leaseId, err: (err as Error).message }, 'lease renewal failed');
    }
  }

  /** Stored, it comes back to every node as a change; the asking node takes that as the acknowledgement. */
  #openApproval(o: { record: Buffer; arguments: string; has_arguments: boolean }): void {
    let record: ApprovalRecord;
    try {
      record = JSON.parse(o.record.toString('utf8')) as ApprovalRecord;
    } catch {
      throw new FrameError('approval_open carries a record that is not JSON');
    }
    this.d.approvals.openRemote(record, o.has_arguments ? o.arguments : null).catch((err: unknown) => {
      // Unacknowledged, the node's waiting request is refused after its wait for the change.
      this.d.logger.error({ node: this.nodeId, approval: record.id, err: (err as Error).message }, 'approval from a node not stored');
    });
  }

  #greet(hello: { node_id: string; version: string; applied_version: number; audit_verifier_key: string }): void {
    if (hello.node_id !== this.nodeId) throw new FrameError(`hello names node ${JSON.stringify(hello.node_id.slice(0, 64))}, but the certificate is node ${this.nodeId}`);
    this.#hello = true;
    this.#version = hello.version;
    this.appliedVersion = hello.applied_version;
    // Subscribed and snapshotted in one turn of the event loop: the first delta sent is the snapshot's next version.
    this.#unsubscribe = this.d.feed.subscribe((c) => this.#delta(c));
    if (hello.applied_version !== this.d.feed.version) {
      const snap = this.d.feed.snapshot();
      this.#send({ snapshot: { version: snap.version, state: snap.state.map(toWire) } });
    }
    this.d.logger.info({ node: this.nodeId, version: hello.version, applied_version: hello.applied_version, replica_version: this.d.feed.version }, 'node stream open');
    this.#auditLog = hello.audit_verifier_key;
    if (this.#auditLog) {
      this.d.audit
        .nextSeq(this.#auditLog)
        .then((next) => this.#send({ audit_ack: { next_seq: next } }))
        .catch((err: unknown) => this.d.logger.warn({ node: this.nodeId, err: (err as Error).message }, 'audit shipping not resumed (PostgreSQL unavailable); the node sends again on its next stream'));
    }
    this.#recordContact(true);
  }

  /** Another node's run events (once this node has said hello). */
  sendRunEvents(events: Buffer): void {
    if (this.#hello) this.#send({ run_events: { events } });
  }

  #delta(c: Change): void {
    this.#send({ delta: { change: toWire(c) } });
  }

  #tick(): void {
    // A node sends a heartbeat each interval; one silent for five is gone (a partition, a dead process).
    if (Date.now() - this.lastHeardAt > 5 * this.d.heartbeatMs + 1000) return this.close({ code: 'ALT_FLEET_STALE', message: `no frame from node ${this.nodeId} for ${Date.now() - this.lastHeardAt} ms` });
    this.#send({ heartbeat: { at: Date.now(), applied_version: this.d.feed.version } });
  }

  #recordContact(force: boolean): void {
    const now = Date.now();
    const wait = this.appliedVersion === this.#contactWrittenVersion ? CONTACT_WRITE_MS : MOVED_WRITE_MS;
    if (!force && now - this.#contactWrittenAt < wait) return;
    this.#contactWrittenAt = now;
    this.#contactWrittenVersion = this.appliedVersion;
    this.d.fleet.touchNode(this.nodeId, now, this.#version, this.appliedVersion).then((enrolled) => {
      // An operator removed the node (altrace nodes remove): its open stream ends with its certificate.
      if (!enrolled) this.close({ code: 'ALT_FLEET_UNAUTHENTICATED', message: `node ${this.nodeId} was removed from the fleet: enroll again with a bootstrap token` });
    }, (err: unknown) => {
      this.d.logger.warn({ node: this.nodeId, err: (err as Error).message }, "node contact not recorded (PostgreSQL unavailable); the stream goes on");
    });
  }
}
