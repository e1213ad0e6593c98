import { LEVELS, severity, type AgentLevel, type AgentLevels, type DecisionRecord, type KeyRegistry, type Level, type PolicyHolder } from '../../../proxy/src/index.js';
import type { Operator } from './operator.js';
import { agentTeams, isAdmin, requireAgentInScope, teamOfAgent } from './team-scope.js';
import { ControlError, notOneOf } from '../errors.js';
import type { KillService } from './kill-service.js';
import type { ServiceStore } from '../state/service-store.js';

const RECENT_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Decisions of one minute, counted: memory per agent stays bounded at any request rate. */
interface Minute {
  at: number;
  outcomes: Record<string, number>;
  reasons: Record<string, number>;
}

interface AgentActivity {
  lastSeen: number;
  /** The last hour, a bucket per minute, oldest first. */
  minutes: Minute[];
  /** Per rule, the times of its most recent matches (at most the rule's count of them). */
  ruleHits: Map<string, number[]>;
  lastTrigger: number;
}

export type LevelChange = { agent: string; from: Level; to: Level; by: string; reason: string | null };

/**
 * Graduated enforcement around the chain's AgentLevels: operators set levels (persisted
 * before the reply); declared rules escalate at once on the decisions they match; a level a
 * rule set steps down one level per quiet period (never from kill). kill is the agent's kill
 * switch, so reaching it also ends the agent's streams.
 */
export class EnforcementService {
  readonly #activity = new Map<string, AgentActivity>();
  /** Level changes, one at a time: each reads the level the previous one committed. */
  #changes: Promise<unknown> = Promise.resolve();
  /** A rule's escalation or a step down whose write failed: not applied, reported here. */
  onError: (err: Error, agent: string) => void = () => {};

  constructor(
    private readonly store: ServiceStore,
    private readonly levels: AgentLevels,
    private readonly kills: KillService,
    private readonly keys: KeyRegistry,
    private readonly policy: PolicyHolder,
    private readonly onChange: (c: LevelChange) => void,
    private readonly now: () => number = Date.now,
  ) {}

  /** The service with the store's levels in the registry the chain reads. */
  static async open(
    store: ServiceStore,
    levels: AgentLevels,
    kills: KillService,
    keys: KeyRegistry,
    policy: PolicyHolder,
    onChange: (c: LevelChange) => void,
    now: () => number = Date.now,
  ): Promise<EnforcementService> {
    for (const l of await store.listAgentLevels()) levels.set(l);
    return new EnforcementService(store, levels, kills, keys, policy, onChange, now);
  }

  levelOf(agent: string): AgentLevel {
    return this.levels.get(agent) ?? { agent, level: 'normal', setBy: 'default', reason: null, since: 0 };
  }

  /** Queues a level change; `when` is asked again once the changes before it have committed. */
  #queue(agent: string, to: Level, by: string, reason: string | null, when: () => boolean = () => true): Promise<AgentLevel | null> {
    const next = this.#changes.then(() => (when() ? this.#apply(agent, to, by, reason) : null));
    this.#changes = next.catch(() => {});
    return next;
  }

  /** The level, and the kill switch it engages or releases, commit together; memory follows the commit. */
  async #apply(agent: string, to: Level, by: string, reason: string | null): Promise<AgentLevel> {
    const from = this.levelOf(agent).level;
    const next: AgentLevel = { agent, level: to, setBy: by, reason, since: this.now() };
    // kill is the kill switch: engaging it ends the agent's streams under way; leaving kill releases it.
    const engage = to === 'kill' && !this.kills.isEngaged('agent', agent) ? this.kills.systemSwitch(agent, by, reason) : null;
    const release = from === 'kill' && to !== 'kill' && this.kills.isEngaged('agent', agent);
    await this.store.transaction(async (tx) => {
      await tx.putAgentLevel(next);
      if (engage) await tx.putKill(engage);
      if (release) await tx.deleteKill('agent', agent);
    });
    this.levels.set(next);
    if (engage) await this.kills.engageCommitted(engage);
    if (release) this.kills.releaseCommitted('agent', agent);
    this.onChange({ agent, from, to, by, reason });
    return next;
  }

  /** A rule's change, off the request path: the decision that triggered it has already been answered. */
  #applyInBackground(agent: string, to: Level, by: string, reason: string, when: () => boolean): Promise<void> {
    return this.#queue(agent, to, by, reason, when).then(
      () => {},
      (err: unknown) => this.onError(err instanceof Error ? err : new Error(String(err)), agent),
    );
  }

  async setByOperator(op: Operator, agent: string, body: unknown): Promise<AgentLevel> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (k !== 'level' && k !== 'reason') throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field (level, reason)`, k);
    if (typeof b.level !== 'string' || !(LEVELS as readonly string[]).includes(b.level)) throw new ControlError('ALT_INVALID_FIELD', notOneOf('level', b.level, LEVELS), 'level');
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500)) throw new ControlError('ALT_INVALID_FIELD', 'reason must be a string of at most 500 characters', 'reason');
    requireAgentInScope(op, this.keys, agent, 'agent');
    if (isAdmin(op) && teamOfAgent(this.keys, agent) === null) throw new ControlError('ALT_NOT_FOUND', `no agent ${agent}: issue it a key first`, 'agent');
    return (await this.#queue(agent, b.level as Level, `operator:${op.name}`, (b.reason as string | undefined) ?? null))!;
  }

  /** Every decision passes here (after the request ended): activity, then the escalation rules. */
  observe(d: DecisionRecord): void {
    const agent = d.principal?.agent;
    if (!agent) return;
    const now = this.now();
    let a = this.#activity.get(agent);
    if (!a) {
      a = { lastSeen: now, minutes: [], ruleHits: new Map(), lastTrigger: 0 };
      this.#activity.set(agent, a);
    }
    a.lastSeen = now;
    const minute = Math.floor(now / MINUTE_MS) * MINUTE_MS;
    let bucket = a.minutes[a.minutes.length - 1];
    if (!bucket || bucket.at !== minute) {
      bucket = { at: minute, outcomes: {}, reasons: {} };
      a.minutes.push(bucket);
      while (a.minutes.length > 0 && now - a.minutes[0]!.at > RECENT_MS) a.minutes.shift();
    }
    bucket.outcomes[d.outcome] = (bucket.outcomes[d.outcome] ?? 0) + 1;
    if (d.outcome !== 'allow') bucket.reasons[d.reason] = (bucket.reasons[d.reason] ?? 0) + 1;
    for (const rule of this.policy.current.enforcement.rules) {
      if (rule.reason !== null && rule.reason !== d.reason) continue;
      if (rule.outcome !== null && rule.outcome !== d.outcome) continue;
      const hits = (a.ruleHits.get(rule.id) ?? []).filter((t) => now - t < rule.withinMs);
      hits.push(now);
      if (hits.length > rule.count) hits.splice(0, hits.length - rule.count);
      a.ruleHits.set(rule.id, hits);
      a.lastTrigger = now;
      // Escalation is immediate; an operator's higher level is never lowered by a rule.
      const higher = () => severity(rule.level) > severity(this.levelOf(agent).level);
      if (hits.length >= rule.count && higher()) {
        void this.#applyInBackground(agent, rule.level, `rule:${rule.id}`, `${hits.length} × ${rule.reason ?? rule.outcome ?? 'any decision'} within ${rule.withinMs / 1000} s`, higher);
      }
    }
  }

  /** Steps rule-set levels down one level after a quiet period; run every few seconds. */
  async deescalate(): Promise<void> {
    const steps: Promise<void>[] = [];
    const quiet = this.policy.current.enforcement.deescalateAfterMs;
    const now = this.now();
    for (const l of this.levels.list()) {
      if (!l.setBy.startsWith('rule:') || l.level === 'kill') continue;
      const lastTrigger = Math.max(this.#activity.get(l.agent)?.lastTrigger ?? 0, l.since);
      if (now - lastTrigger < quiet) continue;
      const down = LEVELS[severity(l.level) - 1]!;
      // Stepped down only from the level seen here: an operator or a rule may have changed it meanwhile.
      const unchanged = () => this.levels.get(l.agent) === l;
      steps.push(this.#applyInBackground(l.agent, down, l.setBy, `${quiet / 1000} s without a new trigger`, unchanged));
    }
    await Promise.all(steps);
  }

  /** Registered agents (those with keys) with their level and last hour of enforcement. */
  agents(op: Operator) {
    const byAgent = new Map<string, { teams: Set<string>; keys: number }>();
    for (const k of this.keys.list()) {
      const e = byAgent.get(k.agent) ?? { teams: new Set<string>(), keys: 0 };
      e.teams.add(k.team);
      if (k.revokedAt === null) e.keys++;
      byAgent.set(k.agent, e);
    }
    const now = this.now();
    const owners = agentTeams(this.keys);
    // A team token sees the agents its team owns, never one whose name another team also holds a key for.
    return [...byAgent.entries()]
      .filter(([agent]) => isAdmin(op) || owners.get(agent) === op.team)
      .map(([agent, e]) => {
        const l = this.levelOf(agent);
        const a = this.#activity.get(agent);
        const byOutcome: Record<string, number> = {};
        const reasons: Record<string, number> = {};
        for (const m of a?.minutes ?? []) {
          if (now - m.at > RECENT_MS) continue;
          for (const [k, n] of Object.entries(m.outcomes)) byOutcome[k] = (byOutcome[k] ?? 0) + n;
          for (const [k, n] of Object.entries(m.reasons)) reasons[k] = (reasons[k] ?? 0) + n;
        }
        return {
          id: agent,
          kind: 'registered',
          team: owners.get(agent)!,
          teams: [...e.teams].sort(),
          active_keys: e.keys,
          level: l.level,
          level_set_by: l.setBy,
          level_reason: l.reason,
          level_since: l.since ? new Date(l.since).toISOString() : null,
          killed: this.kills.isEngaged('agent', agent),
          last_seen: a ? new Date(a.lastSeen).toISOString() : null,
          recent: { window_s: RECENT_MS / 1000, decisions: byOutcome, enforcement_reasons: reasons },
        };
      })
      .sort((x, y) => x.id.localeCompare(y.id));
  }
}
