// The control plane's store: the Store interface's operations on PostgreSQL, async, each its
// own transaction (or several in one, through transaction()), each write appending to the fleet
// change log that nodes and other replicas follow.
import type { Pool } from 'pg';
import type { AgentLevel, Budget, BudgetScope, KillScope, KillSwitch, SpendRow, VirtualKey } from '../../../../proxy/src/index.js';
import type { Role } from '../../services/roles.js';
import type { ApprovalRecord, ApprovalStatus, ApprovedPinRecord, OperatorCertificate, OperatorToken, PinProposalRecord, SpendDimension, SpendTotal } from '../store.js';
import { ChangeRecorder, readChanges, readHead, type Change } from './changes.js';
import { listenForChanges, type ChangeListener, type ListenOptions } from './listen.js';
import { migrate, type MigrationResult } from './migrate.js';
import { PgOperations, type StoreOperations } from './operations.js';
import { openPool, type PoolOptions } from './pool.js';
import { SharedAuthFailures } from './auth-failures.js';
import { inTransaction } from './transaction.js';
import { FleetIdentityStore, NodeReportStore } from './fleet-identity.js';
import { LeaseStore } from './leases.js';
import { FleetAuditStore } from './fleet-audit.js';

export class PgStore implements StoreOperations {
  readonly #pool: Pool;
  readonly #url: string;
  readonly #listeners = new Set<ChangeListener>();
  /** What opening the store did to the schema. */
  readonly migration: MigrationResult;
  /** The fleet's CA, nodes and enrollment tokens (not in the change log). */
  readonly fleet: FleetIdentityStore;
  /** Budget leases drawn by nodes, and each budget window's settled spend (not in the change log). */
  readonly leases: LeaseStore;
  /** The audit logs nodes ship (not in the change log). */
  readonly audit: FleetAuditStore;
  /** What each node last reported of itself: agents seen, bpf status (not in the change log). */
  readonly reports: NodeReportStore;

  private constructor(pool: Pool, url: string, migration: MigrationResult) {
    this.#pool = pool;
    this.#url = url;
    this.migration = migration;
    this.fleet = new FleetIdentityStore(pool, url);
    this.leases = new LeaseStore(pool, url);
    this.audit = new FleetAuditStore(pool, url);
    this.reports = new NodeReportStore(pool);
  }

  /** Failed operator tokens per source, shared with every replica on this database. */
  authFailures(limit: { failures: number; perMs: number }): SharedAuthFailures {
    return new SharedAuthFailures(this.#pool, this.#url, limit);
  }

  /**
   * Connects (DatabaseUnreachableError names the URL without its password), applies pending
   * migrations (SchemaTooNewError when the database is ahead of this code), and returns the store.
   */
  static async open(url: string, options: PoolOptions = {}): Promise<PgStore> {
    const pool = await openPool(url, options);
    try {
      return new PgStore(pool, url, await migrate(pool, url));
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  /**
   * Runs `fn` as one transaction: every write in it commits with its change-log rows and one
   * NOTIFY, or none does. Resolves only after COMMIT: the point an operator action may be
   * acknowledged. It holds the change log's lock from its first statement (see #run).
   */
  transaction<T>(fn: (tx: StoreOperations) => Promise<T>): Promise<T> {
    return this.#run(fn, true);
  }

  /**
   * One transaction. `exclusive`: it takes the change log's lock before it reads, so a
   * check-then-write (a token name free, an agent's team) holds against every other replica's
   * writes, as a single node's one SQLite connection does. Single operations need no such lock.
   */
  #run<T>(fn: (tx: StoreOperations) => Promise<T>, exclusive = false): Promise<T> {
    return inTransaction(this.#pool, this.#url, async (client) => {
      const changes = new ChangeRecorder(client);
      if (exclusive) await changes.lock();
      const out = await fn(new PgOperations(client, changes));
      await changes.finish();
      return out;
    });
  }

  /** Records a pushed policy (docs/fleet.md): it lives in the change log only, the latest one in force. */
  putPolicy(pushed: unknown): Promise<void> {
    return inTransaction(this.#pool, this.#url, async (client) => {
      const changes = new ChangeRecorder(client);
      await changes.append('policy.put', pushed);
      await changes.finish();
    });
  }

  /** Changes committed after `version`, oldest first, at most `limit` of them. */
  changesSince(version: number, limit = 1000): Promise<Change[]> {
    return readChanges(this.#pool, version, limit);
  }

  /** The newest committed change's version (0: none yet). */
  headVersion(): Promise<number> {
    return readHead(this.#pool);
  }

  /** LISTENs on a connection of its own, reconnecting after the server restarts (see listenForChanges). */
  async listen(onVersion: (version: number) => void, options: ListenOptions = {}): Promise<ChangeListener> {
    const inner = await listenForChanges(this.#url, onVersion, options);
    const listener: ChangeListener = {
      close: async () => {
        this.#listeners.delete(listener);
        await inner.close();
      },
    };
    this.#listeners.add(listener);
    return listener;
  }

  /** Sends a NOTIFY on `channel` (for messages that are not state: the fleet's run events). */
  async notify(channel: string, payload: string): Promise<void> {
    await this.#pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  /** Closes every listener and the pool. */
  async close(): Promise<void> {
    await Promise.all([...this.#listeners].map((l) => l.close()));
    await this.#pool.end();
  }

  insertKey(k: VirtualKey): Promise<void> {
    return this.#run((tx) => tx.insertKey(k));
  }
  updateKey(k: VirtualKey): Promise<void> {
    return this.#run((tx) => tx.updateKey(k));
  }
  listKeys(): Promise<VirtualKey[]> {
    return this.#run((tx) => tx.listKeys());
  }
  addOperatorToken(hash: string, name: string, team: string | null, role: Role, expiresAt: number | null = null): Promise<void> {
    return this.#run((tx) => tx.addOperatorToken(hash, name, team, role, expiresAt));
  }
  findOperatorToken(hash: string): Promise<OperatorToken | null> {
    return this.#run((tx) => tx.findOperatorToken(hash));
  }
  listOperatorTokens(): Promise<OperatorToken[]> {
    return this.#run((tx) => tx.listOperatorTokens());
  }
  deleteOperatorToken(name: string): Promise<boolean> {
    return this.#run((tx) => tx.deleteOperatorToken(name));
  }
  findRevokedToken(hash: string): Promise<{ name: string; deletedAt: number } | null> {
    return this.#run((tx) => tx.findRevokedToken(hash));
  }
  renameOperatorToken(name: string, newName: string, expiresAt: number | null): Promise<boolean> {
    return this.#run((tx) => tx.renameOperatorToken(name, newName, expiresAt));
  }
  countOperatorTokens(): Promise<number> {
    return this.#run((tx) => tx.countOperatorTokens());
  }
  putKill(k: KillSwitch): Promise<void> {
    return this.#run((tx) => tx.putKill(k));
  }
  deleteKill(scope: KillScope, target: string): Promise<boolean> {
    return this.#run((tx) => tx.deleteKill(scope, target));
  }
  listKills(): Promise<KillSwitch[]> {
    return this.#run((tx) => tx.listKills());
  }
  putAgentLevel(l: AgentLevel): Promise<void> {
    return this.#run((tx) => tx.putAgentLevel(l));
  }
  listAgentLevels(): Promise<AgentLevel[]> {
    return this.#run((tx) => tx.listAgentLevels());
  }
  putBudget(b: Budget): Promise<void> {
    return this.#run((tx) => tx.putBudget(b));
  }
  deleteBudget(scope: BudgetScope, target: string): Promise<boolean> {
    return this.#run((tx) => tx.deleteBudget(scope, target));
  }
  listBudgets(): Promise<Budget[]> {
    return this.#run((tx) => tx.listBudgets());
  }
  addSpend(rows: SpendRow[]): Promise<void> {
    return this.#run((tx) => tx.addSpend(rows));
  }
  spendBy(dimension: SpendDimension, fromDay: string, toDay: string, team: string | null): Promise<SpendTotal[]> {
    return this.#run((tx) => tx.spendBy(dimension, fromDay, toDay, team));
  }
  insertApproval(a: ApprovalRecord): Promise<void> {
    return this.#run((tx) => tx.insertApproval(a));
  }
  decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string | null, reason: string | null, at: number): Promise<boolean> {
    return this.#run((tx) => tx.decideApproval(id, status, by, reason, at));
  }
  getApproval(id: string): Promise<ApprovalRecord | null> {
    return this.#run((tx) => tx.getApproval(id));
  }
  listApprovals(status: ApprovalStatus | null, team: string | null, limit: number): Promise<ApprovalRecord[]> {
    return this.#run((tx) => tx.listApprovals(status, team, limit));
  }
  expirePendingApprovals(at: number): Promise<number> {
    return this.#run((tx) => tx.expirePendingApprovals(at));
  }
  insertPinProposal(p: PinProposalRecord): Promise<void> {
    return this.#run((tx) => tx.insertPinProposal(p));
  }
  getPinProposal(approvalId: string): Promise<PinProposalRecord | null> {
    return this.#run((tx) => tx.getPinProposal(approvalId));
  }
  listPinProposals(): Promise<(PinProposalRecord & { status: ApprovalStatus })[]> {
    return this.#run((tx) => tx.listPinProposals());
  }
  putApprovedPin(p: ApprovedPinRecord): Promise<void> {
    return this.#run((tx) => tx.putApprovedPin(p));
  }
  listApprovedPins(): Promise<ApprovedPinRecord[]> {
    return this.#run((tx) => tx.listApprovedPins());
  }
  putOperatorCertificate(c: OperatorCertificate): Promise<void> {
    return this.#run((tx) => tx.putOperatorCertificate(c));
  }
  revokeOperatorCertificate(serial: string, at: number, by: string, reason: string | null): Promise<boolean> {
    return this.#run((tx) => tx.revokeOperatorCertificate(serial, at, by, reason));
  }
  listOperatorCertificates(): Promise<OperatorCertificate[]> {
    return this.#run((tx) => tx.listOperatorCertificates());
  }
}
