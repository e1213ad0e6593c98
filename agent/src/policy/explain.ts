import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AgentLevels,
  BudgetLedger,
  Chain,
  DataFlow,
  EvidenceLedger,
  DelegationBudgets,
  KeyRegistry,
  KillSwitches,
  PolicyHolder,
  RateBuckets,
  RunTracker,
  ScanPool,
  buildAdapters,
  declaredStages,
  describeRequest,
  generateKeySecret,
  hashKey,
  loadDefaultDetectors,
  type ApprovalDesk,
  type Verdict,
} from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import { PolicyError } from '../errors.js';
import { packageRoot } from '../paths.js';
import { resolvePolicyPath } from '../runtime.js';
import { upstreamsFrom } from '../upstreams.js';
import { trustedRoots } from '../services/delegation-service.js';
import { loadPolicy, loadPrices } from './load.js';

/** Explain does not wait for people: a gate answers at once and says it would have waited. */
const EXPLAIN_DESK: ApprovalDesk = {
  ask: async (a) => ({ id: 'explain', outcome: 'approved', by: `(explain: would wait up to ${a.timeoutMs / 1000} s for an operator)`, reason: null }),
};

export interface ExplainInput {
  agent: string;
  team: string;
  /** The provider-native request body (JSON text). */
  request: string;
  path: string;
  run: string | null;
  /** A delegation chain, as a worker sends it in x-altrace-parent. */
  parent: string | null;
  /** A provider-native response body whose tool calls the response side should judge. */
  response: string | null;
  /** The instant the request is judged at (epoch ms): contract hours, expiry, delegation lifetimes. */
  at: number;
}

export interface Explanation {
  policy: string;
  /** The instant it was judged at, ISO 8601 UTC. */
  at: string;
  contracts: string[];
  stages: { id: string; band: string; verdict: Verdict | null }[];
  decision: Verdict;
  response: { verdict: Verdict | null; toolCalls: string[] } | null;
}

/** Reads a request or response file for explain; the error names which and why. */
export function readExplainFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(`cannot read the ${what} file ${file}: ${(err as Error).message}`, `(${what})`);
  }
  try {
    JSON.parse(text);
  } catch (err) {
    throw new PolicyError(`the ${what} file ${file} is not JSON: ${(err as Error).message}`, `(${what})`);
  }
  return text;
}

/**
 * Runs a request through the same chain the agent composes, offline, for a principal that
 * holds a key with no restrictions of its own: so what decides is the policy and the
 * contracts. No state (kills, levels, budgets) and no upstream: those are the live agent's.
 */
export async function explainRequest(config: Config, input: ExplainInput): Promise<Explanation> {
  const policyFile = resolvePolicyPath(config.policy);
  const policy = new PolicyHolder(loadPolicy(policyFile));
  const keys = new KeyRegistry();
  const secret = generateKeySecret();
  keys.put({ id: 'explain', hash: hashKey(secret), prefix: 'alt-explain', agent: input.agent, team: input.team, models: [], providers: [], costCenter: null, expiresAt: null, revokedAt: null, createdAt: input.at });
  const secretRulesPath = join(packageRoot, 'policies', 'rules', 'gitleaks.toml');
  const upstreams = upstreamsFrom(config);
  // Read only when a chain is presented: the root key is the agent user's, explain may run as another.
  let roots: Map<string, KeyObject> | null = null;
  const scanPool = new ScanPool({ threads: 1, secretRulesPath, workerHeapMb: config.scan.worker_heap_mb });
  try {
    const chain = new Chain(
      declaredStages({
        keys,
        kills: new KillSwitches(),
        levels: new AgentLevels(),
        runs: new RunTracker(() => policy.current.runLoops),
        ledger: new BudgetLedger(),
        prices: { current: loadPrices(resolvePolicyPath(config.prices)) },
        providerCount: null,
        policy,
        scanPool,
        detectors: loadDefaultDetectors(secretRulesPath).set,
        dataFlow: new DataFlow(),
        evidence: new EvidenceLedger(),
        contractRates: new RateBuckets(),
        approvals: EXPLAIN_DESK,
        // A chain given with --parent is verified against this node's roots, as the proxy would.
        delegation: { roots: () => (roots ??= trustedRoots(config)), budgets: new DelegationBudgets() },
        regions: new Map([...upstreams].map(([name, u]) => [name, u.dataRegion ?? null])),
        hosts: new Map([...upstreams].map(([name, u]) => [name, u.base.hostname])),
        enforceOnly: config.enforce_only,
        maxBodyBytes: config.limits.max_body_bytes,
        maxJsonDepth: config.limits.max_json_depth,
        now: () => input.at,
      }),
      { stageTimeoutMs: config.chain.stage_timeout_ms },
    );
    const { router } = buildAdapters(upstreams);
    const url = new URL(input.path, 'http://explain.invalid');
    const routed = router.route('POST', url);
    const bytes = Buffer.from(input.request);
    const headers: Record<string, string> = { authorization: `Bearer ${secret}`, 'content-type': 'application/json' };
    if (input.run) headers['x-altrace-run'] = input.run;
    if (input.parent) headers['x-altrace-parent'] = input.parent;
    const { ctx } = describeRequest('explain', 'POST', url, routed, headers, { bytes, length: bytes.length, tooLarge: bytes.length > config.limits.max_body_bytes }, config.limits.max_json_depth);
    const stages = await chain.trace(ctx);
    const last = stages.at(-1)?.verdict;
    const decision: Verdict = last && last.outcome !== 'allow' && last.outcome !== 'warn' ? last : { outcome: 'allow', reason: 'ALT_ALLOWED', stage: 'chain' };
    let response: Explanation['response'] = null;
    if (input.response !== null && decision.outcome === 'allow' && routed.match) {
      const body: unknown = JSON.parse(input.response);
      const tools = routed.match.adapter.responseTools(routed.match, body);
      const inspection = chain.openResponse({ request: ctx, streaming: false });
      let verdict: Verdict | null = null;
      if (inspection) {
        const found = (await inspection.inspect([{ text: routed.match.adapter.responseText(routed.match, body), tools, seq: 0 }])) ?? inspection.finish();
        inspection.close();
        verdict = found?.verdict ?? null;
      }
      response = { verdict, toolCalls: tools.map((t) => t.name ?? '?') };
    }
    return { policy: `${policy.current.source}@${policy.current.digest}`, at: new Date(input.at).toISOString(), contracts: (ctx.contracts ?? []).map((c) => c.ref), stages, decision, response };
  } finally {
    await scanPool.close();
  }
}
