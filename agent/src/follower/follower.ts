// The node side of the fleet (docs/fleet.md, "The node stream"): one long-lived stream to a
// control-plane replica, whose snapshot and deltas fill the registries the hot path reads.
// Nothing on the request path waits for it: requests read the registries; the follower only
// changes them, and says (FleetFreshness) when the node has gone too long without word.
import { join } from 'node:path';
import type { ClientHttp2Session, ClientHttp2Stream } from 'node:http2';
import type { AgentLevel, FleetFreshness, KillSwitch, Logger, PinProposal, SpendRow } from '../../../proxy/src/index.js';
import { FLEET_CONTENT_TYPE, FrameDecoder, FrameError, FrameSequence, encodeFrame, type Frame } from '../fleet/frames.js';
import type { FleetMetrics } from '../fleet/metrics.js';
import { FollowedState, type FollowedRegistries } from './followed-state.js';
import type { RemoteApprovals } from '../services/approval-service.js';
import type { RemotePinReviews } from '../services/pin-review-service.js';
import type { ApprovalRecord } from '../state/store.js';
import type { SeenAgent } from '../state/postgres/index.js';
import type { NodeWrites } from './followed-store.js';
import { openSession } from './fleet-http.js';
import type { LeaseHolder } from './budget-leases.js';
import type { AuditShipper } from './audit-shipper.js';
import type { RunSharing } from './run-sharing.js';
import { enroll, readIdentity, renew, renewAt, type NodeIdentity } from './node-identity.js';
import { fromWire, readSnapshotFile, writeSnapshotFile } from './snapshot-file.js';

export interface FollowerOptions {
  /** One or more replicas (fleet.control_plane, comma-separated); the follower moves to the next when one fails. */
  urls: URL[];
  caPem: string;
  stateDir: string;
  nodeName: string;
  /** The bootstrap credential, read when it is needed: a projected service-account token rotates in its file. */
  bootstrapToken: () => string | undefined;
  maxStalenessMs: number;
  onStale: 'fail_closed' | 'fail_static';
  version: string;
  registries: FollowedRegistries;
  /** Budget leases drawn over the stream. */
  leases: LeaseHolder;
  /** Ships the node's audit log; null when the log is disabled. */
  audit: AuditShipper | null;
  logger: Logger;
  metrics: FleetMetrics;
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2_000;
/** Longest wait for a replica's Welcome; shorter (half of it) when fleet.max_staleness_s is small. */
const WELCOME_MAX_MS = 5_000;
const SNAPSHOT_WRITE_DELAY_MS = 50;

type WireChange = Parameters<typeof fromWire>[0];

export const snapshotPath = (stateDir: string): string => join(stateDir, 'fleet', 'fleet-snapshot.pb');

const APPROVAL_ACK_MS = 5_000;
/** How often a node reports the agents it saw and its bpf status. */
const REPORT_MS = 5_000;

/** What a node reports of itself (docs/fleet.md, "What else is shared"). */
export interface NodeReporter {
  seenAgents(): SeenAgent[];
  /** `altrace bpf status` as JSON; null when node enforcement is off. */
  bpfStatus(): unknown;
}

/** Spend rows kept for the control plane while the stream is down; past this the oldest go (the node's own store keeps them all). */
const MAX_QUEUED_SPEND_ROWS = 50_000;

export class Follower implements FleetFreshness, RemoteApprovals, RemotePinReviews, NodeWrites {
  readonly state: FollowedState;
  #identity: NodeIdentity;
  #urlIndex = 0;
  #hasState = false;
  /** Last frame from a control plane (or the start, for a node that restored its snapshot file). */
  #lastHeardAt = 0;
  #session: ClientHttp2Session | null = null;
  #closed = false;
  #streams = 0;
  #writeTimer: NodeJS.Timeout | null = null;
  #renewTimer: NodeJS.Timeout | null = null;
  readonly #staleTimer: NodeJS.Timeout;
  #loop: Promise<void> = Promise.resolve();
  #wake: (() => void) | null = null;
  /**
   * A re-enrollment under way. The next stream waits for it: presenting the refused certificate
   * again (to the next replica) started a second enrollment, each replacing the other's
   * certificate (test/e2e/fleet-faults.test.ts, "a removed node", saw two).
   */
  #reenrolling: Promise<void> | null = null;
  /** Sends a frame on the stream while one is up. */
  #send: ((body: Record<string, unknown>) => void) | null = null;
  #spendQueue: SpendRow[] = [];
  #runs: RunSharing | null = null;
  #reporter: NodeReporter | null = null;
  #reportTimer: NodeJS.Timeout | null = null;
  readonly #approvalAcks = new Map<string, { resolve: () => void; timer: NodeJS.Timeout }>();

  private constructor(private readonly o: FollowerOptions, identity: NodeIdentity) {
    this.state = new FollowedState(o.registries);
    this.#identity = identity;
    // Stale whatever fleet.on_stale says (docs/fleet.md, "Staleness"): a fail_static node refuses
    // nothing, and this gauge is what tells that it decides from old state. (It read refusal(),
    // which is null under fail_static, so the gauge stayed 0: test/e2e/fleet-faults.test.ts.)
    this.#staleTimer = setInterval(() => o.metrics.stale.set(this.#stale() ? 1 : 0), 1000);
    this.#staleTimer.unref();
  }

  /**
   * Restores the last snapshot from disk, makes sure the node has a certificate (enrolling with
   * the bootstrap token when it has none, or an expired one), and starts following. Resolves
   * without waiting for the control plane: until its first snapshot the node is not ready.
   */
  static async start(o: FollowerOptions): Promise<Follower> {
    const saved = readSnapshotFile(snapshotPath(o.stateDir));
    let identity = readIdentity(o.stateDir);
    if (!identity || identity.notAfter <= Date.now()) identity = await enroll(o.urls[0]!, o.caPem, o.nodeName, o.bootstrapToken(), o.stateDir);
    const f = new Follower(o, identity);
    if (saved) {
      f.state.applySnapshot(saved.version, saved.state);
      f.#hasState = true;
      f.#lastHeardAt = Date.now();
      o.logger.info({ version: saved.version, things: saved.state.length }, 'fleet state restored from the last snapshot');
    }
    o.metrics.appliedVersion.set(f.state.version);
    f.#scheduleRenewal();
    f.#loop = f.#run();
    return f;
  }

  get nodeId(): string {
    return this.#identity.nodeId;
  }

  get url(): URL {
    return this.o.urls[this.#urlIndex]!;
  }

  /** True once the node holds state from its control plane (a snapshot, received or restored). */
  get ready(): boolean {
    return this.#hasState;
  }

  /** No state from the control plane yet, or no frame from it for longer than fleet.max_staleness_s. */
  #stale(): boolean {
    return !this.#hasState || Date.now() - this.#lastHeardAt > this.o.maxStalenessMs;
  }

  refusal(): string | null {
    if (!this.#hasState) return `this node has no state from its control plane (${this.url.origin}) yet`;
    if (this.o.onStale === 'fail_static') return null;
    const silent = Date.now() - this.#lastHeardAt;
    if (silent <= this.o.maxStalenessMs) return null;
    return `no word from the control plane (${this.url.origin}) for ${Math.round(silent / 1000)} s, past fleet.max_staleness_s ${this.o.maxStalenessMs / 1000} (fleet.on_stale: fail_closed)`;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#staleTimer);
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    // Leases go back with what was spent of them, while the stream is still there to carry it.
    this.o.leases.close();
    this.o.audit?.close();
    this.#runs?.close();
    if (this.#reportTimer) clearInterval(this.#reportTimer);
    const session = this.#session;
    // Only a stream that is up (#send set at its Welcome) can carry anything back. The answer to a
    // PING says the replica has read every frame sent before it (the lease returns). Not close():
    // it waited for the stream to end, which it never does by itself (every shutdown took 500 ms),
    // and close() then destroy() leaves the TLS socket to a replica that hangs open, so the node
    // did not exit on SIGTERM until SIGKILLed (test/e2e/fleet-faults.test.ts, "a node restarted
    // while the control plane is down").
    if (session && !session.destroyed && this.#send) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 500);
        const answered = () => {
          clearTimeout(t);
          resolve();
        };
        try {
          if (!session.ping(answered)) answered();
        } catch {
          answered();
        }
      });
    }
    this.#session?.destroy();
    this.#wake?.();
    await this.#loop;
    if (this.#writeTimer) {
      clearTimeout(this.#writeTimer);
      this.#writeSnapshot();
    }
  }

  async #run(): Promise<void> {
    let retry = RETRY_MIN_MS;
    /** Replicas that failed to open a stream since the last one that did. */
    let failed = 0;
    while (!this.#closed) {
      const opened = await this.#follow().catch((err: unknown) => {
        this.o.logger.warn({ control_plane: this.url.origin, err: (err as Error).message }, 'fleet stream failed; reconnecting');
        return false;
      });
      if (this.#closed) return;
      this.o.metrics.streamUp.set(0);
      await this.#reenrolling;
      // A stream that got going resets the backoff; a replica that fails to open one is left for
      // the next at once, and only a whole round of failures backs off (a dead replica's refusal
      // should cost the node nothing but the next connect).
      failed = opened ? 0 : failed + 1;
      retry = opened ? RETRY_MIN_MS : failed % this.o.urls.length === 0 ? Math.min(retry * 2, RETRY_MAX_MS) : retry;
      if (!opened) this.#urlIndex = (this.#urlIndex + 1) % this.o.urls.length;
      const wait = opened ? RETRY_MIN_MS : failed % this.o.urls.length === 0 ? retry * (0.5 + Math.random() / 2) : 0;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, wait);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = null;
    }
  }

  /** One stream, from connect to its end; resolves true if it got as far as a Welcome. */
  #follow(): Promise<boolean> {
    const id = this.#identity;
    const session = openSession(this.url, { ca: this.o.caPem, key: id.keyPem, cert: id.certPem });
    this.#session = session;
    return new Promise<boolean>((resolve, reject) => {
      let welcomed = false;
      let heartbeat: NodeJS.Timeout | null = null;
      // A replica that takes the connection but never answers (stopped, hung, cut off after the
      // TCP handshake) must not hold the node: without a Welcome in time, the next replica is
      // tried. Without this deadline a node whose first replica hung stayed stale for as long as
      // it hung, the other replica up (test/e2e/fleet-faults.test.ts, "a hung replica").
      const welcomeWait = Math.min(WELCOME_MAX_MS, Math.max(1_000, this.o.maxStalenessMs / 2));
      const welcomeTimer = setTimeout(() => {
        if (!welcomed) end(new Error(`no welcome from ${this.url.origin} within ${welcomeWait} ms`));
      }, welcomeWait);
      const end = (err: Error | null) => {
        clearTimeout(welcomeTimer);
        if (heartbeat) clearInterval(heartbeat);
        this.#send = null;
        this.o.leases.link = null;
        if (this.#runs) this.#runs.link = null;
        if (this.o.audit) this.o.audit.link = null;
        session.destroy();
        if (this.#session === session) this.#session = null;
        if (err && !welcomed) reject(err);
        else {
          if (err) this.o.logger.warn({ control_plane: this.url.origin, err: err.message }, 'fleet stream ended');
          resolve(welcomed);
        }
      };
      session.once('error', (err) => end(err));
      session.once('close', () => end(null));
      const stream = session.request({ ':method': 'POST', ':path': '/fleet/v1/stream', 'content-type': FLEET_CONTENT_TYPE });
      stream.on('error', (err) => end(err));
      stream.on('response', (h) => {
        const status = Number(h[':status']);
        if (status !== 200) this.#readRefusal(stream, status, end);
      });
      const decoder = new FrameDecoder();
      let inbound: FrameSequence | null = null;
      let outbound: FrameSequence | null = null;
      const send = (body: Record<string, unknown>) => stream.write(encodeFrame({ ...outbound!.stamp(), ...body }));
      stream.on('data', (chunk: Buffer) => {
        try {
          for (const f of decoder.push(chunk)) {
            if (!inbound) {
              if (f.body !== 'welcome') throw new FrameError(`the first frame must be welcome, not ${f.body}`);
              const w = f.welcome as { stream_id: string; heartbeat_ms: number; replica: string };
              inbound = new FrameSequence(w.stream_id);
              outbound = new FrameSequence(w.stream_id);
              inbound.accept(f);
              welcomed = true;
              if (this.#streams++ > 0) this.o.metrics.reconnects.inc();
              this.#heard();
              this.o.metrics.streamUp.set(1);
              send({ hello: { node_id: id.nodeId, node_name: this.o.nodeName, version: this.o.version, applied_version: this.state.version, audit_verifier_key: this.o.audit?.verifierKey ?? '' } });
              this.#send = send;
              this.#report();
              if (this.#runs) this.#runs.link = { send: (body) => (send(body), true) };
              this.#sendSpend();
              this.o.leases.link = { send: (body) => (send(body), true) };
              if (this.o.audit) this.o.audit.link = { send: (body) => (send(body), true) };
              const every = Math.max(50, w.heartbeat_ms);
              heartbeat = setInterval(() => {
                // A replica silent for five beats is gone (killed, partitioned): try again, or the next one.
                if (Date.now() - this.#lastHeardAt > 5 * every + 1000) return end(new Error(`no frame from replica ${w.replica} for ${Date.now() - this.#lastHeardAt} ms`));
                send({ heartbeat: { at: Date.now(), applied_version: this.state.version } });
              }, every);
              this.o.logger.info({ control_plane: this.url.origin, replica: w.replica }, 'fleet stream open');
              continue;
            }
            inbound.accept(f);
            this.#heard();
            if (!this.#take(f)) return end(null);
          }
        } catch (err) {
          const message = (err as Error).message;
          this.o.metrics.refusals.inc({ code: err instanceof FrameError ? 'ALT_FLEET_FRAME_INVALID' : 'ALT_INTERNAL' });
          if (outbound) stream.end(encodeFrame({ ...outbound.stamp(), refusal: { code: 'ALT_FLEET_FRAME_INVALID', message } }));
          end(new Error(`frame refused: ${message}`));
        }
      });
      stream.on('end', () => end(null));
    });
  }

  /** Applies one frame; false when the stream must end (a gap: reconnect for a snapshot; a refusal). */
  #take(f: Frame): boolean {
    switch (f.body) {
      case 'snapshot': {
        const s = f.snapshot as { version: number; state: WireChange[] };
        this.state.applySnapshot(s.version, s.state.map(fromWire));
        this.#hasState = true;
        this.o.metrics.appliedVersion.set(s.version);
        this.o.logger.info({ version: s.version, things: s.state.length }, 'fleet snapshot applied');
        this.#scheduleWrite();
        return true;
      }
      case 'delta': {
        const c = fromWire((f.delta as { change: WireChange }).change);
        const applied = this.state.applyDelta(c);
        if (applied === 'gap') {
          this.o.logger.warn({ have: this.state.version, got: c.version }, 'fleet delta out of order: resynchronising from a snapshot');
          return false;
        }
        if (applied === 'applied') {
          this.o.metrics.appliedVersion.set(c.version);
          this.o.metrics.propagation.observe(Math.max(0, Date.now() - c.at) / 1000);
          this.#scheduleWrite();
        }
        return true;
      }
      case 'run_events':
        this.#runs?.onEvents((f.run_events as { events: Buffer }).events);
        return true;
      case 'audit_ack':
        this.o.audit?.onAck((f.audit_ack as { next_seq: number }).next_seq);
        return true;
      case 'lease_grant':
        this.o.leases.onGrant(f.lease_grant as Parameters<LeaseHolder['onGrant']>[0]);
        this.o.metrics.leasesHeld.set(this.o.leases.heldUsd);
        return true;
      case 'refusal': {
        const r = f.refusal as { code: string; message: string };
        this.o.metrics.refusals.inc({ code: r.code });
        this.o.logger.warn({ code: r.code, err: r.message }, 'the control plane ended the fleet stream');
        return false;
      }
      default:
        return true;
    }
  }

  /** Asks the control plane to hold this approval; resolves when its change comes back (stored). */
  open(record: ApprovalRecord, args: string | null): Promise<void> {
    const send = this.#send;
    if (!send) return Promise.reject(new Error(`the control plane (${this.url.origin}) is not reachable: the approval cannot be asked, so the request is refused`));
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#approvalAcks.delete(record.id);
        reject(new Error(`the control plane did not store approval ${record.id} within ${APPROVAL_ACK_MS} ms: the request is refused`));
      }, APPROVAL_ACK_MS);
      this.#approvalAcks.set(record.id, { resolve, timer });
      send({ approval_open: { record: Buffer.from(JSON.stringify(record)), arguments: args ?? '', has_arguments: args !== null } });
    });
  }

  /**
   * An MCP pin review, asked of the control plane with its proposal. Nothing waits on it (the
   * listing was refused already): no acknowledgement is awaited, and unheard it is asked again
   * at a later listing after a restart.
   */
  proposePin(record: ApprovalRecord, proposal: PinProposal): void {
    this.#send?.({ approval_open: { record: Buffer.from(JSON.stringify({ ...record, pin: proposal })), arguments: '', has_arguments: false } });
  }

  expire(id: string, reason: string, at: number): void {
    // Without a stream the control plane learns nothing; its approval stays pending until an
    // operator answers it (the request was refused here either way).
    this.#send?.({ approval_expire: { id, reason, at } });
  }

  /** Reports the agents this node sees and its bpf status, now and every few seconds. */
  reportWith(r: NodeReporter): void {
    this.#reporter = r;
    this.#reportTimer = setInterval(() => this.#report(), REPORT_MS);
    this.#reportTimer.unref();
    this.#report();
  }

  #report(): void {
    const send = this.#send;
    if (!send || !this.#reporter) return;
    try {
      send({ seen_agents: { agents: this.#reporter.seenAgents().map((a) => ({ id: a.id, agent: a.agent, team: a.team, kind: a.kind, first_seen: a.firstSeen, last_seen: a.lastSeen })) } });
      const bpf = this.#reporter.bpfStatus();
      if (bpf !== null) send({ bpf_status: { status: Buffer.from(JSON.stringify(bpf, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))) } });
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'node report not sent');
    }
  }

  /** Shares this node's run state with the fleet from now on (the ledger and tracker exist after the follower starts). */
  shareRuns(runs: RunSharing): void {
    this.#runs = runs;
    const send = this.#send;
    if (send) runs.link = { send: (body) => (send(body), true) };
  }

  levelChange(level: AgentLevel, kill: KillSwitch | null, release: boolean): void {
    const json = (v: unknown) => Buffer.from(JSON.stringify(v));
    // Applied here already; without a stream the fleet does not learn it (docs/fleet.md, Status).
    if (!this.#send) return void this.o.logger.warn({ agent: level.agent, level: level.level }, 'an enforcement level change could not reach the control plane: it holds on this node only');
    this.#send({ node_level_change: { level: json(level), kill: kill ? json(kill) : Buffer.alloc(0), release } });
  }

  spend(rows: SpendRow[]): void {
    this.#spendQueue.push(...rows);
    if (this.#spendQueue.length > MAX_QUEUED_SPEND_ROWS) this.#spendQueue.splice(0, this.#spendQueue.length - MAX_QUEUED_SPEND_ROWS);
    this.#sendSpend();
  }

  #sendSpend(): void {
    if (!this.#send || this.#spendQueue.length === 0) return;
    const rows = this.#spendQueue;
    this.#spendQueue = [];
    this.#send({ spend_batch: { rows: Buffer.from(JSON.stringify(rows)) } });
  }

  /** An approval change applied from the stream: the acknowledgement of one this node asked. */
  approvalSeen(a: ApprovalRecord): void {
    const ack = this.#approvalAcks.get(a.id);
    if (!ack) return;
    clearTimeout(ack.timer);
    this.#approvalAcks.delete(a.id);
    ack.resolve();
  }

  /** A non-200 answer to the stream: its error, and what it means for this node's identity. */
  #readRefusal(stream: ClientHttp2Stream, status: number, end: (err: Error) => void): void {
    const chunks: Buffer[] = [];
    stream.removeAllListeners('data');
    // The stream's own 'end' (a quiet end) would settle the attempt first, and the refusal would
    // never be logged: the node said nothing of why its control plane refused it.
    stream.removeAllListeners('end');
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      let e: { code?: string; message?: string } = {};
      try {
        e = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { error: typeof e }).error ?? {};
      } catch {
        // Not our control plane's JSON: the status says enough.
      }
      if (e.code === 'ALT_FLEET_UNAUTHENTICATED') this.#reenrolling ??= this.#reenroll(e.message ?? '').finally(() => (this.#reenrolling = null));
      end(new Error(`the control plane answered ${status}${e.code ? ` ${e.code}: ${e.message}` : ''}`));
    });
  }

  /** The certificate is refused (the node was removed, or its certificate replaced): enroll again if the token allows. */
  async #reenroll(why: string): Promise<void> {
    const token = this.o.bootstrapToken();
    if (!token) return void this.o.logger.error({ err: why }, 'the control plane refuses this node and there is no ALTRACE_BOOTSTRAP_TOKEN (or _FILE) to enroll again with');
    try {
      this.#identity = await enroll(this.url, this.o.caPem, this.o.nodeName, token, this.o.stateDir);
      this.#scheduleRenewal();
      this.o.logger.info({ node: this.#identity.nodeId }, 'enrolled again');
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'enrolling again failed');
    }
  }

  #heard(): void {
    this.#lastHeardAt = Date.now();
  }

  #scheduleRenewal(): void {
    if (this.#renewTimer) clearTimeout(this.#renewTimer);
    const wait = Math.max(1000, renewAt(this.#identity) - Date.now());
    this.#renewTimer = setTimeout(() => void this.#renew(), Math.min(wait, 2 ** 31 - 1));
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    try {
      this.#identity = await renew(this.url, this.o.caPem, this.#identity, this.o.stateDir);
      this.o.logger.info({ node: this.#identity.nodeId, expires: new Date(this.#identity.notAfter).toISOString() }, 'fleet certificate renewed');
      // The stream reconnects with the new certificate at once (close() would wait for the
      // stream, which never ends by itself); the old one is refused from now on.
      this.#session?.destroy();
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'fleet certificate renewal failed; retrying in a minute');
      this.#renewTimer = setTimeout(() => void this.#renew(), 60_000);
      this.#renewTimer.unref();
      return;
    }
    this.#scheduleRenewal();
  }

  #scheduleWrite(): void {
    if (this.#writeTimer) return;
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = null;
      this.#writeSnapshot();
    }, SNAPSHOT_WRITE_DELAY_MS);
    this.#writeTimer.unref();
  }

  #writeSnapshot(): void {
    try {
      writeSnapshotFile(snapshotPath(this.o.stateDir), this.state.version, this.state.changes());
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'fleet snapshot not written; the node keeps following');
    }
  }
}
