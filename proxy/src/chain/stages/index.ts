// The declared stage list. Adding a stage is a new file in this folder plus one line here.
import type { KeyObject } from 'node:crypto';
import type { BudgetLedger } from '../../budget/ledger.js';
import type { EvidenceLedger } from '../../contracts/evidence.js';
import type { RateBuckets } from '../../contracts/rate.js';
import type { ApprovalDesk } from '../../contracts/approvals.js';
import type { PriceTable } from '../../budget/prices.js';
import type { ProviderTokenCount } from '../../budget/provider-count.js';
import type { KillSwitches } from '../../enforcement/kill-switches.js';
import type { AgentLevels } from '../../enforcement/levels.js';
import type { RunTracker } from '../../enforcement/runs.js';
import type { KeyRegistry } from '../../identity/keys.js';
import type { PolicyHolder } from '../../policy/policy.js';
import type { DataFlow } from '../../scan/data-flow.js';
import type { DetectorSet } from '../../scan/detectors/engine.js';
import type { ScanPool } from '../../scan/pool.js';
import type { Stage } from '../stage.js';
import { agentLevel } from './agent-level.js';
import { delegationStage } from './delegation.js';
import type { DelegationBudgets } from '../../delegation/budgets.js';
import { approvalGate } from './approval-gate.js';
import { budgetStage } from './budget.js';
import { canary } from './canary.js';
import { contentRequest } from './content-request.js';
import { contentResponse } from './content-response.js';
import { contractRequest } from './contract-request.js';
import { contractResponse } from './contract-response.js';
import { dataFlowRecord, dataIsolation } from './data-isolation.js';
import { dataCeiling } from './data-ceiling.js';
import { destinationAllowlist } from './destination-allowlist.js';
import { enforceOnly } from './enforce-only.js';
import { ingressLimits } from './ingress-limits.js';
import { keyIdentity } from './key-identity.js';
import { killSwitch } from './kill-switch.js';
import { fleetFreshness, type FleetFreshness } from './fleet-freshness.js';
import { auditBacklog, type AuditBacklog } from './audit-backlog.js';
import { mcpEvidence } from './mcp-evidence.js';
import { modelScope } from './model-scope.js';
import { responseDenyPatterns } from './response-deny-patterns.js';
import { mcpToolPins } from './mcp-tool-pins.js';
import { mcpToolCalls } from './mcp-tool-calls.js';
import { ChangedTools, ListedTools } from '../../mcp-trust/tool-state.js';
import { ApprovedPins } from '../../mcp-trust/approved-pins.js';
import { mcpRegistry } from './mcp-registry.js';
import type { ProvenanceGate } from '../../mcp-trust/provenance-gate.js';
import { mcpToolDescriptions } from './mcp-tool-descriptions.js';
import { ToolFlows } from '../../mcp-trust/flows.js';
import { mcpFlowRecord, mcpToxicFlow } from './mcp-toxic-flows.js';
import { functionFlowRecord, functionToxicFlow } from './function-toxic-flows.js';
import { runLoop } from './run-loop.js';
import { systemClock, type Clock } from '../../core/clock.js';


export interface StageDeps {
  keys: KeyRegistry;
  kills: KillSwitches;
  levels: AgentLevels;
  runs: RunTracker;
  ledger: BudgetLedger;
  prices: { readonly current: PriceTable };
  /** Exact input counts from the provider, for families without a local tokenizer. */
  providerCount: ProviderTokenCount | null;
  policy: PolicyHolder;
  scanPool: ScanPool;
  /** The content detectors; the event loop runs their keyword prefilter, the pool their regexes. */
  detectors: DetectorSet;
  /** Which upstream saw or produced which data, per run. */
  dataFlow: DataFlow;
  /** Tools that have returned, per run: what evidence rules of contracts check. */
  evidence: EvidenceLedger;
  /** Contract rate limits, per contract and agent. */
  contractRates: RateBuckets;
  /** Delegation: the trusted root keys (current set) and the links' budgets. */
  delegation: { roots: () => ReadonlyMap<string, KeyObject>; budgets: DelegationBudgets };
  /** Where each upstream processes data (config providers.*.region), for contract regions. */
  regions: ReadonlyMap<string, string | null>;
  /** The host each upstream is reached at, for contract destinations named by host. */
  hosts: ReadonlyMap<string, string>;
  /** The base URL each upstream is reached at, for MCP registry entries that list remotes. */
  urls?: ReadonlyMap<string, string>;
  /** Verifies npm provenance of MCP server launches whose registry entry requires it (absent: such launches are refused). */
  provenance?: ProvenanceGate;
  /** Where approval gates ask operators and wait. */
  approvals: ApprovalDesk;
  /** MCP tool pins operators approved after a change, and where changes are proposed. */
  approvedPins?: ApprovedPins;
  /** Tools the last listings found changed (a followed node also learns them from its fleet's pin reviews). */
  changedTools?: ChangedTools;
  /** Set on a node that follows a control plane: refuses new requests while it is stale. */
  fleet?: FleetFreshness;
  /** SIEM sinks that block when full (siem.sinks[].when_full: block). */
  auditBacklog?: AuditBacklog;
  enforceOnly: boolean;
  maxBodyBytes: number;
  maxJsonDepth: number;
  /** The time every time-dependent stage reads (key expiry, levels, delegation, hours, runs, budget windows, evidence). */
  now?: Clock;
}

export function declaredStages(d: StageDeps): Stage[] {
  const now = d.now ?? systemClock;
  // Shared by the two MCP tool stages: what the last listings found changed, per server.
  const changedTools = d.changedTools ?? new ChangedTools();
  const approvedPins = d.approvedPins ?? new ApprovedPins();
  // What each server last listed to each agent: shared by the two MCP tool stages, for shadowing across unpinned servers.
  const listedTools = new ListedTools();
  // Runs' labelled MCP calls, remembered for the policy's window as it is at each check.
  const toolFlows = new ToolFlows(() => d.policy.current.toxicFlows?.windowMs ?? 3_600_000);
  return [
    ingressLimits(d.maxBodyBytes, d.maxJsonDepth),
    enforceOnly(d.enforceOnly),
    keyIdentity(d.keys, d.enforceOnly, now),
    killSwitch(d.kills),
    ...(d.fleet ? [fleetFreshness(d.fleet)] : []),
    ...(d.auditBacklog ? [auditBacklog(d.auditBacklog)] : []),
    agentLevel(d.levels, now),
    modelScope(d.policy),
    destinationAllowlist(d.policy),
    delegationStage(d.delegation.roots, now),
    contractRequest(d.policy, d.evidence, d.contractRates, (u) => d.regions.get(u) ?? null, (u) => d.hosts.get(u) ?? null, now),
    runLoop(d.runs, now),
    mcpRegistry(d.policy, d.urls ?? new Map(), d.provenance ?? null),
    mcpToolCalls(d.policy, changedTools, approvedPins, listedTools),
    functionFlowRecord(d.policy, toolFlows, now),
    mcpToxicFlow(d.policy, toolFlows, now),
    contentRequest(d.policy, d.detectors, d.scanPool),
    dataCeiling(d.policy),
    dataIsolation(d.policy, d.dataFlow),
    canary(d.policy),
    budgetStage(d.ledger, d.prices, d.providerCount, d.delegation.budgets, now),
    approvalGate(d.approvals),
    contractResponse(d.approvals),
    mcpEvidence(d.policy, d.evidence, now),
    mcpToolPins(d.policy, changedTools, approvedPins, listedTools),
    mcpToolDescriptions(d.policy, d.detectors, d.scanPool),
    mcpFlowRecord(d.policy, toolFlows, now),
    functionToxicFlow(d.policy, toolFlows, now),
    responseDenyPatterns(d.policy, d.scanPool),
    contentResponse(d.policy, d.detectors, d.scanPool),
    dataFlowRecord(d.policy, d.dataFlow),
  ];
}
