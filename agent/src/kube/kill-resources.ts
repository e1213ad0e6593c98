// AltraceKillSwitch resources reconciled with the kill switches (docs/kubernetes.md, "Kills as
// manifests"): a switch is engaged while a resource names it and released when the last one
// naming it is deleted. A switch an operator releases through the API while its resource
// exists is engaged again (what is in the cluster is what is enforced); switches engaged
// through the API alone are the operator's and are left as they are. Each change goes through
// the kill service (persisted, then pushed to every node) and into the audit log.
import { GLOBAL_TARGET, type KillScope } from '../../../proxy/src/index.js';
import { ControlError } from '../errors.js';
import { killTarget, parseScope, parseTarget, type KillService } from '../services/kill-service.js';
import type { Operator } from '../services/operator.js';
import { KILL_SWITCHES } from './crds.js';
import type { Resource } from './policy-resources.js';

export interface KillStatus {
  state: 'Engaged' | 'Refused';
  observedGeneration: number;
  reason?: string;
  field?: string;
  message: string;
  engagedAt?: string;
  engagedBy?: string;
}

/** What a resource's engagement is recorded as: the operator name the switch carries. */
export const KILL_RESOURCE_PREFIX = `kubernetes:${KILL_SWITCHES.kind}/`;

const ADMIN: Operator = { name: 'kubernetes', team: null };

export type AuditControl = (op: Operator, action: string, target: string, status: number, error: string | null) => Promise<void>;

export class KillResources {
  constructor(
    private readonly kills: KillService,
    private readonly audit: AuditControl,
  ) {}

  /** Engages what the resources name and is not engaged, releases what only deleted resources named; the status of each resource. */
  async reconcile(resources: Resource[]): Promise<Map<string, KillStatus>> {
    const statuses = new Map<string, KillStatus>();
    const wanted = new Map<string, { scope: KillScope; target: string; r: Resource; reason: string | null }>();
    for (const r of [...resources].sort((a, b) => a.created.localeCompare(b.created) || a.name.localeCompare(b.name))) {
      const spec = (r.spec ?? {}) as { scope?: unknown; target?: unknown; reason?: unknown };
      try {
        const scope = parseScope(spec.scope, 'spec.scope');
        const target = parseTarget(scope, spec.target);
        const key = `${scope}/${target}`;
        if (!wanted.has(key)) wanted.set(key, { scope, target, r, reason: typeof spec.reason === 'string' ? spec.reason : null });
      } catch (err) {
        if (!(err instanceof ControlError)) throw err;
        const field = err.field === 'target' ? 'spec.target' : (err.field ?? 'spec');
        statuses.set(r.name, { state: 'Refused', observedGeneration: r.generation, reason: err.code, field, message: err.message });
      }
    }
    for (const w of wanted.values()) {
      if (this.kills.isEngaged(w.scope, w.target)) continue;
      const op: Operator = { name: `${KILL_RESOURCE_PREFIX}${w.r.name}`, team: null };
      await this.kills.engage(op, { scope: w.scope, target: w.target, reason: w.reason });
      await this.audit(op, `APPLY ${KILL_SWITCHES.kind}`, killTarget(w.scope, w.target), 201, null);
    }
    for (const k of this.kills.list(ADMIN)) {
      if (!k.by.startsWith(KILL_RESOURCE_PREFIX) || wanted.has(`${k.scope}/${k.target}`)) continue;
      const op: Operator = { name: k.by, team: null };
      try {
        await this.kills.release(op, k.scope, k.scope === 'global' ? GLOBAL_TARGET : k.target);
      } catch (err) {
        // Another replica released it first.
        if (!(err instanceof ControlError) || err.code !== 'ALT_NOT_FOUND') throw err;
        continue;
      }
      await this.audit(op, `DELETE ${KILL_SWITCHES.kind}`, killTarget(k.scope, k.target), 200, null);
    }
    const engaged = new Map(this.kills.list(ADMIN).map((k) => [`${k.scope}/${k.target}`, k]));
    for (const r of resources) {
      if (statuses.has(r.name)) continue;
      const spec = r.spec as { scope: KillScope; target?: string };
      const k = engaged.get(`${spec.scope}/${spec.scope === 'global' ? GLOBAL_TARGET : spec.target}`);
      statuses.set(
        r.name,
        k
          ? { state: 'Engaged', observedGeneration: r.generation, message: `${killTarget(k.scope, k.target)} is engaged on every node`, engagedAt: new Date(k.createdAt).toISOString(), engagedBy: k.by }
          : { state: 'Refused', observedGeneration: r.generation, reason: 'ALT_INTERNAL', message: 'the switch could not be engaged; retrying' },
      );
    }
    return statuses;
  }
}
