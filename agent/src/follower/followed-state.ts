// What a node follower knows (docs/fleet.md, "The node stream"): the control plane's changes
// applied, in version order, to the registries the hot path reads, and kept compacted — the
// latest put of each thing — so that it can be written to disk and restored from it.
import type { AgentLevel, AgentLevels, Budget, BudgetLedger, BudgetScope, KeyRegistry, KillScope, KillSwitch, KillSwitches, VirtualKey } from '../../../proxy/src/index.js';
import type { ApprovalRecord, ApprovedPinRecord, OperatorToken } from '../state/store.js';
import type { Change } from '../state/postgres/index.js';

/** The registries a followed node decides from, filled from the stream instead of SQLite. */
export interface FollowedRegistries {
  keys: KeyRegistry;
  kills: KillSwitches;
  levels: AgentLevels;
  budgets: BudgetLedger;
  /** Operator tokens by hash: a node's control API answers reads with them. */
  tokens: Map<string, OperatorToken & { hash: string }>;
  /** A policy pushed to the fleet (a PolicyBundle with its digest): the node loads it. */
  onPolicy?: (pushed: unknown) => void;
  /** A budget set or changed (a node leases for it). */
  onBudget?: (b: Budget) => void;
  /** Approvals as they change: a node waiting on one learns its decision here. */
  onApproval?: (a: ApprovalRecord) => void;
  /** A pending approval a snapshot no longer holds (decided while this node was not listening). */
  onApprovalGone?: (id: string) => void;
  /** An MCP tool pin approved on the control plane: the node's listings of that tool match it. */
  onMcpPin?: (p: ApprovedPinRecord) => void;
}

export type Applied = 'applied' | 'duplicate' | 'gap';

/**
 * The changes applied so far, compacted, and the registries they fill. A delta must be the
 * next version: an older one is a duplicate (ignored), a newer one means versions were missed
 * and the follower must ask for a snapshot.
 */
export class FollowedState {
  #version = 0;
  /** The latest put of each thing by identity (`kill:agent:b-bot` …); deletes remove it. */
  readonly #current = new Map<string, Change>();

  constructor(private readonly r: FollowedRegistries) {}

  get version(): number {
    return this.#version;
  }

  /** The compacted state, oldest first: what a snapshot file holds. */
  changes(): Change[] {
    return [...this.#current.values()].sort((a, b) => a.version - b.version);
  }

  /**
   * Everything as of `version`: things absent from it are removed from the registries, things
   * unchanged are left alone (a kill switch already engaged does not fire again).
   */
  applySnapshot(version: number, state: readonly Change[]): void {
    const next = new Map<string, Change>();
    for (const c of state) {
      const id = identity(c);
      if (isDelete(c)) next.delete(id);
      else next.set(id, c);
    }
    for (const [id, old] of this.#current) if (!next.has(id)) this.#remove(old);
    for (const [id, c] of next) {
      const old = this.#current.get(id);
      if (!old || JSON.stringify(old.payload) !== JSON.stringify(c.payload)) this.#put(c);
    }
    this.#current.clear();
    for (const [id, c] of next) this.#current.set(id, c);
    this.#version = version;
  }

  applyDelta(c: Change): Applied {
    if (c.version <= this.#version) return 'duplicate';
    if (c.version !== this.#version + 1) return 'gap';
    const id = identity(c);
    if (isDelete(c)) {
      const old = this.#current.get(id);
      if (old) this.#remove(old);
      this.#current.delete(id);
    } else {
      this.#put(c);
      if (isResting(c)) this.#current.delete(id);
      else this.#current.set(id, c);
    }
    this.#version = c.version;
    return 'applied';
  }

  #put(c: Change): void {
    const p = c.payload as Record<string, unknown>;
    switch (c.kind) {
      case 'key.put':
        return this.r.keys.put(p as unknown as VirtualKey);
      case 'token.put': {
        const t = p as unknown as OperatorToken & { hash: string };
        for (const [hash, old] of this.r.tokens) if (old.name === t.name) this.r.tokens.delete(hash);
        this.r.tokens.set(t.hash, t);
        return;
      }
      case 'kill.put':
        return this.r.kills.engage(p as unknown as KillSwitch);
      case 'level.put':
        return this.r.levels.set(p as unknown as AgentLevel);
      case 'budget.put':
        this.r.budgets.setBudget(p as unknown as Budget);
        return this.r.onBudget?.(p as unknown as Budget);
      case 'approval.put':
        return this.r.onApproval?.(p as unknown as ApprovalRecord);
      case 'policy.put':
        return this.r.onPolicy?.(p);
      case 'mcp_pin.put':
        return this.r.onMcpPin?.(p as unknown as ApprovedPinRecord);
      default:
        return;
    }
  }

  /** Undoes what `c` (a put, or the identity of a delete) put into the registries. */
  #remove(c: Change): void {
    const p = c.payload as Record<string, unknown>;
    switch (c.kind) {
      case 'key.put':
        return this.r.keys.remove(String(p.id));
      case 'token.put':
      case 'token.delete':
        for (const [hash, t] of this.r.tokens) if (t.name === p.name) this.r.tokens.delete(hash);
        return;
      case 'kill.put':
      case 'kill.delete':
        this.r.kills.release(p.scope as KillScope, String(p.target));
        return;
      case 'level.put':
        return this.r.levels.set({ agent: String(p.agent), level: 'normal', setBy: 'control-plane', reason: null, since: c.at });
      case 'budget.put':
      case 'budget.delete':
        this.r.budgets.removeBudget(p.scope as BudgetScope, String(p.target));
        return;
      case 'approval.put':
        return this.r.onApprovalGone?.(String(p.id));
      default:
        return;
    }
  }
}

/** What a change is about: later changes with the same identity replace it. */
export function identity(c: Change): string {
  const p = c.payload as Record<string, unknown>;
  switch (c.kind) {
    case 'key.put':
      return `key:${p.id}`;
    case 'token.put':
    case 'token.delete':
      return `token:${p.name}`;
    case 'kill.put':
    case 'kill.delete':
      return `kill:${p.scope}:${p.target}`;
    case 'level.put':
      return `level:${p.agent}`;
    case 'budget.put':
    case 'budget.delete':
      return `budget:${p.scope}:${p.target}`;
    case 'approval.put':
      return `approval:${p.id}`;
    case 'policy.put':
      return 'policy';
    case 'mcp_pin.put':
      return `mcp_pin:${p.server}/${p.tool}`;
  }
}

const isDelete = (c: Change): boolean => c.kind.endsWith('.delete');

/** A put that leaves nothing to keep: a level back at normal, an approval no longer pending. */
function isResting(c: Change): boolean {
  const p = c.payload as Record<string, unknown>;
  return (c.kind === 'level.put' && p.level === 'normal') || (c.kind === 'approval.put' && p.status !== 'pending');
}
