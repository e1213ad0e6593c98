import { createHash } from 'node:crypto';
import type { DenyPattern, PatternSet } from '../scan/messages.js';
import { buildPrefilter, type Prefilter } from '../scan/prefilter.js';

/** The policy document as an operator writes it (policies/*.yaml), after schema validation. */
export interface PolicyDocument {
  version: number;
  destinations?: { upstreams?: string[] };
  models?: Record<string, string[]>;
  response?: { deny_patterns?: DenyPattern[] };
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
}

export function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`);
}

export function matchesAny(res: readonly RegExp[], value: string): boolean {
  for (const re of res) if (re.test(value)) return true;
  return false;
}

export function compilePolicy(doc: PolicyDocument, source: string): Policy {
  const digest = createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 16);
  const catalog = new Map<string, RegExp[]>();
  for (const [upstream, globs] of Object.entries(doc.models ?? {})) catalog.set(upstream, globs.map(globToRegExp));
  const patterns = (doc.response?.deny_patterns ?? []).map((p) => ({ id: p.id, pattern: p.pattern, flags: p.flags ?? '' }));
  return {
    source,
    digest,
    allowedUpstreams: doc.destinations?.upstreams ? new Set(doc.destinations.upstreams) : null,
    catalog,
    denyPatterns: { version: digest, patterns },
    denyPrefilter: buildPrefilter(patterns),
  };
}

/** The current policy; a reload swaps it whole, so a request sees one version throughout. */
export class PolicyHolder {
  #current: Policy;

  constructor(initial: Policy) {
    this.#current = initial;
  }

  get current(): Policy {
    return this.#current;
  }

  replace(next: Policy): void {
    this.#current = next;
  }
}
