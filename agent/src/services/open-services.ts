// The control services over one store and the registries the hot path reads: the same set on a
// single node (SQLite), on a control-plane replica (PostgreSQL) and on a followed node (its
// control plane's state, read-only).
import type { AgentLevels, BudgetLedger, KeyRegistry, KillSwitches, PolicyHolder, SpendAttribution } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import type { ServiceStore } from '../state/service-store.js';
import { ApprovalService } from './approval-service.js';
import { BudgetService } from './budget-service.js';
import { DelegationService } from './delegation-service.js';
import { EnforcementService, type LevelChange } from './enforcement-service.js';
import { KeyService } from './key-service.js';
import { KillService } from './kill-service.js';
import { TokenService } from './token-service.js';

export interface ServiceRegistries {
  keys: KeyRegistry;
  kills: KillSwitches;
  levels: AgentLevels;
  ledger: BudgetLedger;
  attribution: SpendAttribution;
}

export interface Services {
  kills: KillService;
  keys: KeyService;
  budgets: BudgetService;
  enforcement: EnforcementService;
  approvals: ApprovalService;
  tokens: TokenService;
  delegation: DelegationService;
}

/** Opens every service, each filling its registry from the store. */
export async function openServices(
  store: ServiceStore,
  r: ServiceRegistries,
  policy: PolicyHolder,
  config: Config,
  onLevelChange: (c: LevelChange) => void,
  clock: () => number,
  /** A control-plane replica keeps the fleet's pending approvals; a node expires those its last run left. */
  role: 'node' | 'replica' = 'node',
): Promise<Services> {
  const kills = await KillService.open(store, r.kills, r.keys, clock);
  const keys = await KeyService.open(store, r.keys, kills, clock);
  const budgets = await BudgetService.open(store, r.ledger, r.attribution, r.keys, clock);
  const enforcement = await EnforcementService.open(store, r.levels, kills, r.keys, policy, onLevelChange, clock);
  const approvals = await ApprovalService.open(store, clock, role === 'replica' ? 'keep' : 'expire');
  return { kills, keys, budgets, enforcement, approvals, tokens: new TokenService(store), delegation: new DelegationService(config, r.keys, clock) };
}
