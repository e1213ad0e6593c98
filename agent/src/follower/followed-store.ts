// The store a followed node's services run on (docs/fleet.md, "Roles"): what the control plane
// owns (keys, operator tokens, kill switches, levels, budgets) is read from what the stream
// delivered and refused for writing, with the control plane named; what is still the node's own
// (settled spend) stays in its SQLite store. Approvals are asked of the control plane
// (ApprovalService.remote); the node sees the pending ones.
import type { AgentLevel, AgentLevels, Budget, BudgetLedger, KeyRegistry, KillSwitch, KillSwitches, SpendRow, VirtualKey } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import type { ServiceStore, StoreOps } from '../state/service-store.js';
import { roleOf } from '../services/roles.js';
import type { ApprovalRecord, ApprovalStatus, ApprovedPinRecord, OperatorCertificate, OperatorToken, PinProposalRecord, SpendDimension, SpendTotal } from '../state/store.js';
import type { SqliteStore } from '../state/sqlite.js';

export interface FollowedReads {
  keys: KeyRegistry;
  kills: KillSwitches;
  levels: AgentLevels;
  budgets: BudgetLedger;
  tokens: ReadonlyMap<string, OperatorToken & { hash: string }>;
  /** The fleet's approvals still pending, as the stream delivered them. */
  pendingApprovals: ReadonlyMap<string, ApprovalRecord>;
}

/** What the node sends its control plane: changes made on the node by its own rules, and spend. */
export interface NodeWrites {
  levelChange(level: AgentLevel, kill: KillSwitch | null, release: boolean): void;
  spend(rows: SpendRow[]): void;
}

export class FollowedStore implements ServiceStore {
  /** Set once the follower runs. */
  writes: NodeWrites | null = null;

  constructor(
    private readonly r: FollowedReads,
    private readonly local: SqliteStore,
    /** Where writes belong: named in every refusal. */
    private readonly controlPlane: () => string,
  ) {}

  #managed(what: string): never {
    throw new ControlError('ALT_FLEET_MANAGED', `this node follows the control plane at ${this.controlPlane()}, which owns ${what}: send the call to its control API`);
  }

  /**
   * An enforcement rule's level change (with its kill switch) goes to the control plane as one
   * change and is applied here at once; anything an operator asked for is refused (ALT_FLEET_MANAGED).
   */
  async transaction<T>(fn: (tx: StoreOps) => Promise<T>): Promise<T> {
    let level: AgentLevel | null = null;
    let kill: KillSwitch | null = null;
    let release = false;
    const tx: StoreOps = Object.create(this) as StoreOps;
    tx.putAgentLevel = (l: AgentLevel) => {
      if (l.setBy.startsWith('operator:')) this.#managed('agent levels');
      level = l;
    };
    tx.putKill = (k: KillSwitch) => {
      if (level === null) this.#managed('kill switches');
      kill = k;
    };
    tx.deleteKill = () => {
      if (level === null) this.#managed('kill switches');
      release = true;
      return true;
    };
    const out = await fn(tx);
    if (level) this.writes?.levelChange(level, kill, release);
    return out;
  }

  insertKey(): void {
    this.#managed('virtual keys');
  }
  updateKey(): void {
    this.#managed('virtual keys');
  }
  listKeys(): VirtualKey[] {
    return this.r.keys.list();
  }
  addOperatorToken(): void {
    this.#managed('operator tokens');
  }
  renameOperatorToken(): boolean {
    this.#managed('operator tokens');
  }
  findOperatorToken(hash: string): OperatorToken | null {
    const t = this.r.tokens.get(hash);
    return t ? { name: t.name, team: t.team, role: roleOf(t), expiresAt: t.expiresAt ?? null, createdAt: t.createdAt } : null;
  }
  listOperatorTokens(): OperatorToken[] {
    return [...this.r.tokens.values()].map((t) => ({ name: t.name, team: t.team, role: roleOf(t), expiresAt: t.expiresAt ?? null, createdAt: t.createdAt }));
  }
  findRevokedToken(): { name: string; deletedAt: number } | null {
    return null;
  }
  deleteOperatorToken(): boolean {
    return this.#managed('operator tokens');
  }
  countOperatorTokens(): number {
    return this.r.tokens.size;
  }
  putKill(): void {
    this.#managed('kill switches');
  }
  deleteKill(): boolean {
    return this.#managed('kill switches');
  }
  listKills() {
    return this.r.kills.list();
  }
  putAgentLevel(): void {
    this.#managed('agent levels');
  }
  listAgentLevels(): AgentLevel[] {
    return this.r.levels.list();
  }
  putBudget(): void {
    this.#managed('budgets');
  }
  deleteBudget(): boolean {
    return this.#managed('budgets');
  }
  listBudgets(): Budget[] {
    return this.r.budgets.budgets();
  }
  addSpend(rows: SpendRow[]): void {
    this.local.addSpend(rows);
    if (rows.length) this.writes?.spend(rows);
  }
  spendBy(dimension: SpendDimension, fromDay: string, toDay: string, team: string | null): SpendTotal[] {
    return this.local.spendBy(dimension, fromDay, toDay, team);
  }
  insertApproval(): void {
    this.#managed('approvals');
  }
  decideApproval(): boolean {
    return this.#managed('approvals (answer them there: altrace approvals approve|deny ID --url …)');
  }
  getApproval(id: string): ApprovalRecord | null {
    return this.r.pendingApprovals.get(id) ?? null;
  }
  /** Only the pending ones are known here; decided ones are the control plane's to list. */
  listApprovals(status: ApprovalStatus | null, team: string | null, limit: number): ApprovalRecord[] {
    if (status !== null && status !== 'pending') return [];
    return [...this.r.pendingApprovals.values()].filter((a) => team === null || a.team === team).sort((a, b) => b.createdAt - a.createdAt).slice(0, limit);
  }
  /** The fleet's pending approvals are not this node's to expire: its own expire with their requests. */
  expirePendingApprovals(): number {
    return 0;
  }
  /** MCP pin reviews are not opened on a followed node (yet): none are asked, none are known. */
  insertPinProposal(): void {
    this.#managed('MCP pin approvals');
  }
  getPinProposal(): PinProposalRecord | null {
    return null;
  }
  listPinProposals(): (PinProposalRecord & { status: ApprovalStatus })[] {
    return [];
  }
  putApprovedPin(): void {
    this.#managed('MCP pins');
  }
  putOperatorCertificate(): void {
    this.#managed('operator certificates');
  }
  revokeOperatorCertificate(): boolean {
    this.#managed('operator certificates');
  }
  listOperatorCertificates(): OperatorCertificate[] {
    return [];
  }
  listApprovedPins(): ApprovedPinRecord[] {
    return [];
  }
}
