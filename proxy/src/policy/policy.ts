import { createHash } from 'node:crypto';
import type { DenyPattern, PatternSet } from '../scan/messages.js';
import { buildPrefilter, type Prefilter } from '../scan/prefilter.js';
import type { Level } from '../enforcement/levels.js';
import { compileContentPolicy, type ContentDocument, type ContentPolicy } from './content.js';
import { DEFAULT_RUN_LOOPS, type RunLoopPolicy } from '../enforcement/runs.js';
import { NO_CONTRACTS, type ContractSet } from '../contracts/set.js';
import type { ClassifierSpec } from '../scan/classifier/classifier.js';
import { compileMcpRegistry, compileToxicFlows, type McpRegistry, type McpRegistryDocument, type ToxicFlowPolicy } from './mcp-registry.js';

/** The policy document as an operator writes it (policies/*.yaml), after schema validation. */
export interface PolicyDocument {
  version: number;
  destinations?: { upstreams?: string[] };
  models?: Record<string, string[]>;
  response?: { deny_patterns?: DenyPattern[] };
  content?: ContentDocument;
  run_loops?: { warn_after?: number; block_after?: number; terminate_after?: number; window_s?: number };
  /** Behavioral contracts: a directory of contract files (relative to the policy file). */
  contracts?: { dir?: string; require?: boolean };
  mcp?: McpRegistryDocument;
  enforcement?: {
    throttle_rps?: number;
    deescalate_after_s?: number;
    rules?: { id: string; when: { reason?: string; outcome?: string; count: number; within_s: number }; level: Exclude<Level, 'normal'> }[];
  };
}

export interface EscalationRule {
  id: string;
  reason: string | null;
  outcome: string | null;
  count: number;
  withinMs: number;
  level: Level;
}

/** The policy in the form stages read on the hot path: globs compiled, sets built. */
export interface Policy {
  source: string;
  digest: string;
  allowedUpstreams: ReadonlySet<string> | null;
  catalog: ReadonlyMap<string, RegExp[]>;
  denyPatterns: PatternSet;
  /** Decides on the event loop which windows can skip the trip to a scan worker. */
  denyPrefilter: Prefilter;
  runLoops: RunLoopPolicy;
  content: ContentPolicy;
  enforcement: { throttlePerSecond: number; deescalateAfterMs: number; rules: EscalationRule[] };
  /** The behavioral contracts in force, loaded with the policy and swapped with it. */
  contracts: ContractSet;
  /** MCP servers whose tools are pinned. */
  mcp: McpRegistry;
  /** Untrusted content, then private data, then a public sink in one run: null when off. */
  toxicFlows: ToxicFlowPolicy | null;
  /** A poisoned tool definition in a tools/list answer: refuse the list, or deliver it flagged. */
  mcpDescriptions: 'block' | 'flag';
  /** The declared classifiers (`mcp.description_classifiers`) stage mcp-tool-descriptions also reads each tool's definition with. */
  mcpDescriptionClassifiers: readonly ClassifierSpec[];
}

import { globToRegExp } from './globs.js';

export { globToRegExp, matchesAny } from './globs.js';

export function compilePolicy(doc: PolicyDocument, source: string, contracts: ContractSet = NO_CONTRACTS): Policy {
  // The digest covers the contracts too: a contract edit is a new policy version.
  const digest = createHash('sha256')
    .update(JSON.stringify(doc))
    .update(contracts.all.map((c) => `${c.ref}:${c.digest}`).join(','))
    .digest('hex')
    .slice(0, 16);
  const catalog = new Map<string, RegExp[]>();
  for (const [upstream, globs] of Object.entries(doc.models ?? {})) catalog.set(upstream, globs.map(globToRegExp));
  const content = compileContentPolicy(doc.content);
  const patterns = (doc.response?.deny_patterns ?? []).map((p) => ({ id: p.id, pattern: p.pattern, flags: p.flags ?? '' }));
  return {
    source,
    digest,
    allowedUpstreams: doc.destinations?.upstreams ? new Set(doc.destinations.upstreams) : null,
    catalog,
    denyPatterns: { version: digest, patterns },
    denyPrefilter: buildPrefilter(patterns),
    content,
    contracts,
    mcp: compileMcpRegistry(doc.mcp),
    toxicFlows: compileToxicFlows(doc.mcp),
    mcpDescriptions: doc.mcp?.descriptions ?? 'block',
    mcpDescriptionClassifiers: (doc.mcp?.description_classifiers ?? []).map((id) => content.classifiers.find((c) => c.id === id)!).filter((c) => c !== undefined),
    runLoops: {
      warnAfter: doc.run_loops?.warn_after ?? DEFAULT_RUN_LOOPS.warnAfter,
      blockAfter: doc.run_loops?.block_after ?? DEFAULT_RUN_LOOPS.blockAfter,
      terminateAfter: doc.run_loops?.terminate_after ?? DEFAULT_RUN_LOOPS.terminateAfter,
      windowMs: (doc.run_loops?.window_s ?? DEFAULT_RUN_LOOPS.windowMs / 1000) * 1000,
    },
    enforcement: {
      throttlePerSecond: doc.enforcement?.throttle_rps ?? 1,
      deescalateAfterMs: (doc.enforcement?.deescalate_after_s ?? 900) * 1000,
      rules: (doc.enforcement?.rules ?? []).map((r) => ({
        id: r.id,
        reason: r.when.reason ?? null,
        outcome: r.when.outcome ?? null,
        count: r.when.count,
        withinMs: r.when.within_s * 1000,
        level: r.level,
      })),
    },
  };
}

/** The current policy; a reload swaps it whole, so a request sees one version throughout. */
export class PolicyHolder {
  #current: Policy;
  readonly #listeners: ((next: Policy, previous: Policy) => void)[] = [];

  constructor(initial: Policy) {
    this.#current = initial;
  }

  get current(): Policy {
    return this.#current;
  }

  replace(next: Policy): void {
    const previous = this.#current;
    this.#current = next;
    for (const listener of this.#listeners) listener(next, previous);
  }

  /** Called after each replace, with the policy now in force and the one before it. */
  onReplace(listener: (next: Policy, previous: Policy) => void): void {
    this.#listeners.push(listener);
  }
}
