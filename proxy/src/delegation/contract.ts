import { globToRegExp } from '../policy/globs.js';
import type { Contract } from '../contracts/compile.js';
import type { VerifiedChain } from './verify.js';

/**
 * A verified chain as one more contract of the request: its models, tools and rate are checked
 * by the contract stages like any contract's (request side and tool calls in the response).
 * Named `delegation:<id of its last link>`, versioned by its length.
 */
export function delegationContract(v: VerifiedChain): Contract {
  const g = v.grant;
  const last = v.links.at(-1)!;
  const name = `delegation:${last.id.slice(0, 12)}`;
  return {
    name,
    version: v.links.length,
    ref: `${name}@${v.links.length}`,
    source: 'x-altrace-parent',
    digest: last.id.slice(0, 16),
    agents: [v.aud],
    teams: [],
    models: g.models ? g.models.map(globToRegExp) : null,
    modelPatterns: g.models ?? null,
    destinations: null,
    destinationPatterns: null,
    tools: g.tools ? g.tools.map((pattern) => ({ pattern, re: globToRegExp(pattern), level: null })) : null,
    levels: null,
    evidence: [],
    approvals: [],
    hours: null,
    rate: g.rate ? { requests: g.rate.requests, perMs: g.rate.per_s * 1000 } : null,
    dataCeiling: g.data_ceiling ?? null,
    regions: g.regions ? g.regions.map(globToRegExp) : null,
    regionPatterns: g.regions ?? null,
  };
}
