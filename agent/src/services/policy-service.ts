import { checkBundle, parseBundle, type PolicyBundle } from '../policy/bundle.js';
import { ControlError } from '../errors.js';
import { PolicyError } from '../errors.js';
import type { Operator } from './operator.js';
import { requireAdmin } from './team-scope.js';

/** A policy pushed to the fleet, as the change log carries it. */
export interface PushedPolicy {
  bundle: PolicyBundle;
  /** The compiled policy's digest (policy and contracts). */
  digest: string;
  contracts: string[];
  by: string;
  at: number;
}

/**
 * The fleet's policy (docs/fleet.md, "Policy through the stream"): an admin pushes a policy and
 * its contracts to the control plane, which checks it exactly as a node would load it, commits
 * it, and every node loads it from its stream in place of its own policy file.
 */
export class PolicyService {
  constructor(
    private readonly store: { putPolicy(p: PushedPolicy): Promise<void> },
    private readonly current: () => PushedPolicy | null,
    private readonly now: () => number = Date.now,
    /** Where the fleet policy comes from when it is not pushed (the cluster's resources): pushes are refused. */
    private readonly source: string | null = null,
  ) {}

  async push(op: Operator, body: unknown): Promise<PushedPolicy> {
    requireAdmin(op, 'push the fleet policy');
    if (this.source) throw new ControlError('ALT_CONFLICT', `the fleet policy comes from ${this.source}: change it there`, 'policy');
    let bundle: PolicyBundle;
    try {
      bundle = parseBundle(body);
    } catch (err) {
      if (err instanceof PolicyError) throw new ControlError('ALT_INVALID_FIELD', err.message, err.field);
      throw err;
    }
    return this.commit(bundle, op.name);
  }

  /** Checks a bundle as a node would load it and commits it as the fleet policy (unchanged: nothing written). */
  async commit(bundle: PolicyBundle, by: string): Promise<PushedPolicy> {
    let digest: string;
    let contracts: string[];
    try {
      const compiled = checkBundle(bundle);
      digest = compiled.digest;
      contracts = compiled.contracts.all.map((c) => c.ref);
    } catch (err) {
      if (err instanceof PolicyError) throw new ControlError('ALT_INVALID_FIELD', err.message, err.field);
      throw err;
    }
    const pushed: PushedPolicy = { bundle, digest, contracts, by, at: this.now() };
    if (this.current()?.digest === digest) return pushed;
    await this.store.putPolicy(pushed);
    return pushed;
  }

  get(op: Operator): PushedPolicy {
    requireAdmin(op, 'read the fleet policy');
    const p = this.current();
    if (!p) throw new ControlError('ALT_NOT_FOUND', 'no policy was pushed to this fleet: each node enforces its own policy file (altrace policy push FILE)');
    return p;
  }
}

export function pushedView(p: PushedPolicy) {
  return { digest: p.digest, contracts: p.contracts, pushed_by: p.by, pushed: new Date(p.at).toISOString() };
}
