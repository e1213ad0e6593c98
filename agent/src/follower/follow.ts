// How `altrace start --control-plane URL` turns a node agent into a follower: its registries
// filled from the control plane's stream, its services on a store that reads them.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import type { AgentLevels, ApprovedPins, BudgetLedger, ChangedTools, KeyRegistry, KillSwitches, Logger } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import { ConfigError } from '../errors.js';
import { FleetMetrics } from '../fleet/metrics.js';
import type { SqliteStore } from '../state/sqlite.js';
import type { ApprovalRecord, OperatorToken } from '../state/store.js';
import type { ApprovalService } from '../services/approval-service.js';
import { changedToolOf } from '../services/pin-review-service.js';
import type { PushedPolicy } from '../services/policy-service.js';
import { FollowedStore } from './followed-store.js';
import { Follower } from './follower.js';
import { LeaseHolder } from './budget-leases.js';
import { AuditShipper } from './audit-shipper.js';

export interface Followed {
  follower: Follower;
  store: FollowedStore;
  /** Approvals go to the control plane, and their decisions come back to `approvals`. */
  bindApprovals(approvals: ApprovalService): void;
}

/** fleet.control_plane: one URL, or several (replicas) separated by commas. */
export function controlPlaneUrls(value: string): URL[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    try {
      const u = new URL(s);
      if (u.protocol !== 'https:') throw new Error('not https');
      return u;
    } catch {
      throw new ConfigError(`fleet.control_plane: ${JSON.stringify(s)} is not an https:// URL`, 'fleet.control_plane');
    }
  });
}

export async function followControlPlane(
  config: Config,
  env: NodeJS.ProcessEnv,
  r: { keys: KeyRegistry; kills: KillSwitches; levels: AgentLevels; budgets: BudgetLedger; pins: ApprovedPins; changedTools: ChangedTools },
  local: SqliteStore,
  /** The node's audit log, shipped to the control plane; null when it is disabled. */
  audit: { verifierKey: string } | null,
  /** A policy pushed to the fleet arrived (at start from the snapshot file, or from the stream). */
  onPolicy: (pushed: PushedPolicy) => void,
  version: string,
  logger: Logger,
  registry: Registry,
): Promise<Followed> {
  const urls = controlPlaneUrls(config.fleet.control_plane!);
  let caPem: string;
  try {
    caPem = readFileSync(config.fleet.ca_file!, 'utf8');
  } catch (err) {
    throw new ConfigError(`fleet.ca_file ${config.fleet.ca_file} cannot be read: ${(err as Error).message}`, 'fleet.ca_file');
  }
  const tokens = new Map<string, OperatorToken & { hash: string }>();
  const pendingApprovals = new Map<string, ApprovalRecord>();
  let approvals: ApprovalService | null = null;
  let follower: Follower | null = null;
  const onApproval = (a: ApprovalRecord) => {
    if (a.status === 'pending') pendingApprovals.set(a.id, a);
    else pendingApprovals.delete(a.id);
    // A tool another node found changed is refused for calls here too, until approved (its pin arrives with it).
    const changed = changedToolOf(a);
    if (changed && a.status === 'approved') r.changedTools.clear(changed.server, changed.tool);
    else if (changed && a.status !== 'expired') r.changedTools.mark(changed.server, changed.tool);
    follower?.approvalSeen(a);
    approvals?.decidedElsewhere(a);
  };
  const leases = new LeaseHolder({ ledger: r.budgets, logger });
  r.budgets.leaseCaps = leases;
  follower = await Follower.start({
    leases,
    audit: audit ? new AuditShipper(config.state_dir, audit.verifierKey, logger) : null,
    urls,
    caPem,
    stateDir: config.state_dir,
    nodeName: config.fleet.node_name ?? hostname().replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63),
    bootstrapToken: bootstrapCredential(env),
    maxStalenessMs: config.fleet.max_staleness_s * 1000,
    onStale: config.fleet.on_stale,
    version,
    registries: {
      ...r,
      tokens,
      onPolicy: (p) => onPolicy(p as PushedPolicy),
      onBudget: (b) => leases.prefetch(b),
      onApproval,
      onApprovalGone: (id) => pendingApprovals.delete(id),
      onMcpPin: (p) => r.pins.set(p.server, p.tool, { model: p.model, structure: p.structure, readOnly: p.readOnly, destructive: p.destructive, labels: null }),
    },
    logger,
    metrics: new FleetMetrics(registry),
  });
  const f = follower;
  const store = new FollowedStore({ ...r, tokens, pendingApprovals }, local, () => f.url.origin);
  store.writes = f;
  return {
    follower: f,
    store,
    bindApprovals(service) {
      approvals = service;
      service.remote = f;
    },
  };
}

/**
 * The node's bootstrap credential: ALTRACE_BOOTSTRAP_TOKEN, or the file ALTRACE_BOOTSTRAP_TOKEN_FILE
 * names, read again each time (a projected service-account token is rewritten as it rotates).
 */
function bootstrapCredential(env: NodeJS.ProcessEnv): () => string | undefined {
  const file = env.ALTRACE_BOOTSTRAP_TOKEN_FILE;
  if (env.ALTRACE_BOOTSTRAP_TOKEN || !file) return () => env.ALTRACE_BOOTSTRAP_TOKEN;
  return () => {
    try {
      return readFileSync(file, 'utf8').trim() || undefined;
    } catch {
      return undefined;
    }
  };
}
