import type { Role } from '../services/roles.js';
import type { ApprovalAsk, AgentLevel, Budget, BudgetScope, KillScope, KillSwitch, PinProposal, SpendRow, ToolPinOf, VirtualKey } from '../../../proxy/src/index.js';

export type SpendDimension = 'team' | 'agent' | 'key' | 'cost_center' | 'function' | 'model';

export interface SpendTotal {
  /** The dimension's value; null for spend without one (no cost center, no function). */
  value: string | null;
  usd: number;
  requests: number;
  inputTokens: number;
  outputTokens: number;
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** An approval as the store keeps it: who asked for what under which rule, and the decision. Never the arguments. */
export interface ApprovalRecord extends Omit<ApprovalAsk, 'arguments' | 'timeoutMs'> {
  id: string;
  status: ApprovalStatus;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  reason: string | null;
}

/** An approval's columns as both stores keep them; `Time` is how each stores an instant. */
export interface ApprovalColumns<Time> {
  id: string;
  status: ApprovalStatus;
  created_at: Time;
  expires_at: Time;
  request_id: string;
  agent: string;
  team: string;
  key_id: string;
  run: string | null;
  contract: string;
  rule: string;
  kind: 'tool' | 'model' | 'mcp-pin';
  subject: string;
  decided_at: Time | null;
  decided_by: string | null;
  reason: string | null;
}

/** An MCP tool as an approval would pin it (kind mcp-pin): kept until the approval is decided, and after. */
export interface PinProposalRecord extends PinProposal {
  approvalId: string;
}

/** An MCP tool pin an operator approved (beside the policy's pins; the newest per tool). */
export interface ApprovedPinRecord extends ToolPinOf {
  approvalId: string;
  approvedBy: string;
  approvedAt: number;
}

export interface OperatorToken {
  name: string;
  /** Null: an admin token, every team. */
  team: string | null;
  /** What it may do (services/roles.ts). */
  role: Role;
  /** When it stops being accepted (epoch ms); null: never. */
  expiresAt: number | null;
  createdAt: number;
}

/** An operator's client certificate: issued by this CA (name, role and team known), or only revoked (a serial from elsewhere). */
export interface OperatorCertificate {
  /** Hexadecimal, lower case, no leading zeros (normalizeSerial). */
  serial: string;
  name: string | null;
  role: Role | null;
  team: string | null;
  notAfter: number | null;
  issuedAt: number | null;
  issuedBy: string | null;
  revokedAt: number | null;
  revokedBy: string | null;
  reason: string | null;
}

/** A certificate serial as both Node (upper case, leading zeros) and the x509 library (lower case) write it. */
export function normalizeSerial(serial: string): string {
  return serial.toLowerCase().replace(/[^0-9a-f]/g, '').replace(/^0+(?=.)/, '');
}

/**
 * The agent's durable state. Every write returns only once it is on disk; the hot path
 * never reads from here (it reads the in-memory registries this store fills).
 */
export interface Store {
  insertKey(key: VirtualKey): void;
  updateKey(key: VirtualKey): void;
  listKeys(): VirtualKey[];
  /** Operator tokens, stored as hashes. */
  addOperatorToken(hash: string, name: string, team: string | null, role: Role, expiresAt?: number | null): void;
  findOperatorToken(hash: string): OperatorToken | null;
  listOperatorTokens(): OperatorToken[];
  /** Deletes a token, keeping its hash as a tombstone: a later use of it is reported as revoked, not as a guess. */
  deleteOperatorToken(name: string): boolean;
  /** A deleted token's name and when it was deleted, by its hash; null for a hash never issued. */
  findRevokedToken(hash: string): { name: string; deletedAt: number } | null;
  /** Renames a token (its secret unchanged) and sets when it stops being accepted: what a rotation keeps of the old secret. */
  renameOperatorToken(name: string, newName: string, expiresAt: number | null): boolean;
  countOperatorTokens(): number;
  /** Records a certificate this CA issued. */
  putOperatorCertificate(c: OperatorCertificate): void;
  /** Marks a serial revoked (recording it when this CA never issued it); false when it was revoked already. */
  revokeOperatorCertificate(serial: string, at: number, by: string, reason: string | null): boolean;
  listOperatorCertificates(): OperatorCertificate[];
  putKill(k: KillSwitch): void;
  deleteKill(scope: KillScope, target: string): boolean;
  listKills(): KillSwitch[];
  /** An agent's enforcement level; `normal` removes the row. */
  putAgentLevel(l: AgentLevel): void;
  listAgentLevels(): AgentLevel[];
  putBudget(b: Budget): void;
  deleteBudget(scope: BudgetScope, target: string): boolean;
  listBudgets(): Budget[];
  /** Adds settled spend to the per-day attribution rows, in one transaction. */
  addSpend(rows: SpendRow[]): void;
  /** Spend from `fromDay` to `toDay` (inclusive, YYYY-MM-DD) grouped by one dimension, optionally for one team. */
  spendBy(dimension: SpendDimension, fromDay: string, toDay: string, team: string | null): SpendTotal[];
  insertApproval(a: ApprovalRecord): void;
  /** Records the decision of a pending approval; false when it was no longer pending. */
  decideApproval(id: string, status: Exclude<ApprovalStatus, 'pending'>, by: string | null, reason: string | null, at: number): boolean;
  getApproval(id: string): ApprovalRecord | null;
  /** Newest first; null status or team: all of them. */
  listApprovals(status: ApprovalStatus | null, team: string | null, limit: number): ApprovalRecord[];
  /** Marks every pending approval that held a request expired (those requests ended with the previous process); mcp-pin reviews hold none and stay. */
  expirePendingApprovals(at: number): number;
  insertPinProposal(p: PinProposalRecord): void;
  getPinProposal(approvalId: string): PinProposalRecord | null;
  /** Every proposal with its approval's status: what was asked already, and what was denied. */
  listPinProposals(): (PinProposalRecord & { status: ApprovalStatus })[];
  /** Replaces the approved pin of that server's tool. */
  putApprovedPin(p: ApprovedPinRecord): void;
  listApprovedPins(): ApprovedPinRecord[];
  /** Runs `fn` as one transaction: all of its writes reach the disk, or none do. */
  transaction<T>(fn: () => T): T;
  close(): void;
}
