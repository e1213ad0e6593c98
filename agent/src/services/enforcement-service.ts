import { LEVELS, severity, type AgentLevel, type AgentLevels, type DecisionRecord, type KeyRegistry, type Level, type PolicyHolder } from '../../../proxy/src/index.js';
import type { Operator } from './operator.js';
import { agentTeams, isAdmin, requireAgentInScope, teamOfAgent } from './team-scope.js';
import { ControlError, notOneOf } from '../errors.js';
import type { KillService } from './kill-service.js';
import type { Store } from '../state/store.js';

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

  constructor(
    private readonly store: Store,
    private readonly levels: AgentLevels,
    private readonly kills: KillService,
    private readonly keys: KeyRegistry,
    private readonly policy: PolicyHolder,
    private readonly onChange: (c: LevelChange) => void,
    private readonly now: () => number = Date.now,
  ) {
    for (const l of store.listAgentLevels()) levels.set(l);
  }

  levelOf(agent: string): AgentLevel {
    return this.levels.get(agent) ?? { agent, level: 'normal', setBy: 'default', reason: null, since: 0 };
  }

  #apply(agent: string, to: Level, by: string, reason: string | null): AgentLevel {
    const from = this.levelOf(agent).level;
    const next: AgentLevel = { agent, level: to, setBy: by, reason, since: this.now() };
    this.store.putAgentLevel(next);
    this.levels.set(next);
    // kill is the kill switch: engaging it ends the agent's streams under way; leaving kill releases it.
    if (to === 'kill' && !this.kills.isEngaged('agent', agent)) this.kills.engageSystem(agent, by, reason);
    if (from === 'kill' && to !== 'kill' && this.kills.isEngaged('agent', agent)) this.kills.releaseSystem(agent);
    this.onChange({ agent, from, to, by, reason });
    return next;
  }

  setByOperator(op: Operator, agent: string, body: unknown): AgentLevel {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ControlError('ALT_INVALID_FIELD', 'the body must be a JSON object', '(body)');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (k !== 'level' && k !== 'reason') throw new ControlError('ALT_INVALID_FIELD', `${k} is not a known field (level, reason)`, k);
    if (typeof b.level !== 'string' || !(LEVELS as readonly string[]).includes(b.level)) throw new ControlError('ALT_INVALID_FIELD', notOneOf('level', b.level, LEVELS), 'level');
    if (b.reason !== undefined && (typeof b.reason !== 'string' || b.reason.length > 500)) throw new ControlError('ALT_INVALID_FIELD', 'reason must be a string of at most 500 characters', 'reason');
    requireAgentInScope(op, this.keys, agent, 'agent');
    if (isAdmin(op) && teamOfAgent(this.keys, agent) === null) throw new ControlError('ALT_NOT_FOUND', `no agent ${agent}: issue it a key first`, 'agent');
    return this.#apply(agent, b.level as Level, `operator:${op.name}`, (b.reason as string | undefined) ?? null);
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
      if (hits.length >= rule.count && severity(rule.level) > severity(this.levelOf(agent).level)) {
        this.#apply(agent, rule.level, `rule:${rule.id}`, `${hits.length} × ${rule.reason ?? rule.outcome ?? 'any decision'} within ${rule.withinMs / 1000} s`);
      }
    }
  }

  /** Steps rule-set levels down one level after a quiet period; run every few seconds. */
  deescalate(): void {
    const quiet = this.policy.current.enforcement.deescalateAfterMs;
    const now = this.now();
    for (const l of this.levels.list()) {
      if (!l.setBy.startsWith('rule:') || l.level === 'kill') continue;
      const lastTrigger = Math.max(this.#activity.get(l.agent)?.lastTrigger ?? 0, l.since);
      if (now - lastTrigger < quiet) continue;
      const down = LEVELS[severity(l.level) - 1]!;
      this.#apply(l.agent, down, l.setBy, `${quiet / 1000} s without a new trigger`);
    }
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
