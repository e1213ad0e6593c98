import { hash } from 'node:crypto';
import { globToRegExp } from '../policy/globs.js';
import { WEEKDAYS, type ActionLevel, type ContractDocument, type Weekday } from './document.js';
import { Hours } from './hours.js';
import type { ArgumentCondition } from './approvals.js';
import type { DataClass } from '../delegation/grant.js';

/** A contract file is invalid or contradicts itself; `field` is the path to the problem. */
export class ContractError extends Error {
  readonly code = 'ALT_CONTRACT_INVALID';
  constructor(message: string, readonly field: string) {
    super(message);
  }
}

export interface ToolRule {
  pattern: string;
  re: RegExp;
  /** Null: classified by name and schema (`auto`). */
  level: ActionLevel | null;
}

export interface EvidenceRule {
  id: string;
  tool: RegExp;
  toolPattern: string;
  requires: string;
  /** [this tool's argument path, the prerequisite's argument path]. */
  match: [string, string][];
}

export interface ApprovalRule {
  id: string;
  tool: RegExp | null;
  model: RegExp | null;
  /** The tool or model pattern as written. */
  pattern: string;
  when: [string, ArgumentCondition][];
  timeoutMs: number;
}

export const DEFAULT_APPROVAL_TIMEOUT_S = 300;

/** A contract in the form the hot path reads: globs compiled, sets built. */
export interface Contract {
  name: string;
  version: number;
  /** `name@version`: what audit records and decision lines name. */
  ref: string;
  source: string;
  digest: string;
  agents: readonly string[];
  teams: readonly string[];
  models: RegExp[] | null;
  modelPatterns: readonly string[] | null;
  /** Upstream names (`mcp:github`) or host names (`*.openai.azure.com`), globs. */
  destinations: RegExp[] | null;
  destinationPatterns: readonly string[] | null;
  tools: ToolRule[] | null;
  levels: ReadonlySet<ActionLevel> | null;
  evidence: EvidenceRule[];
  approvals: ApprovalRule[];
  hours: Hours | null;
  rate: { requests: number; perMs: number } | null;
  dataCeiling: DataClass | null;
  regions: RegExp[] | null;
  regionPatterns: readonly string[] | null;
}

const isGlob = (s: string): boolean => s.includes('*');

function matchesTool(rules: readonly ToolRule[], name: string): ToolRule | undefined {
  return rules.find((r) => r.re.test(name));
}

/** The level a contract gives a tool it lists; null when it lists it as `auto` or not at all. */
export function declaredLevel(c: Contract, name: string): ActionLevel | null {
  return c.tools ? (matchesTool(c.tools, name)?.level ?? null) : null;
}

export function toolListed(c: Contract, name: string): boolean {
  return c.tools === null || matchesTool(c.tools, name) !== undefined;
}

function checkLevels(doc: ContractDocument, levels: ReadonlySet<ActionLevel> | null): void {
  if (!levels || !doc.tools) return;
  for (const [tool, level] of Object.entries(doc.tools)) {
    if (level !== 'auto' && !levels.has(level)) {
      throw new ContractError(`tools.${tool} is classified ${level}, which levels [${[...levels].join(', ')}] does not permit: the tool could never be called`, `tools.${tool}`);
    }
  }
}

function compileEvidence(doc: ContractDocument, tools: ToolRule[] | null): EvidenceRule[] {
  const ids = new Set<string>();
  const rules = (doc.evidence ?? []).map((r, i) => {
    if (ids.has(r.id)) throw new ContractError(`evidence.${i}.id "${r.id}" is declared twice`, `evidence.${i}.id`);
    ids.add(r.id);
    if (isGlob(r.requires)) throw new ContractError(`evidence.${i}.requires must name one tool, not a pattern`, `evidence.${i}.requires`);
    if (tools && !matchesTool(tools, r.requires)) {
      throw new ContractError(`evidence.${i}.requires "${r.requires}" is not an allowed tool of this contract: ${r.tool} could never be called`, `evidence.${i}.requires`);
    }
    if (tools && !isGlob(r.tool) && !matchesTool(tools, r.tool)) {
      throw new ContractError(`evidence.${i}.tool "${r.tool}" is not an allowed tool of this contract: the rule can never apply`, `evidence.${i}.tool`);
    }
    const match = Object.entries(r.match ?? {});
    return { id: r.id, tool: globToRegExp(r.tool), toolPattern: r.tool, requires: r.requires, match };
  });
  checkCycles(rules);
  return rules;
}

/** A tool that (transitively) requires itself can never be called: refused at load. */
function checkCycles(rules: readonly EvidenceRule[]): void {
  const requiresOf = (tool: string): number[] => rules.flatMap((r, i) => (r.tool.test(tool) ? [i] : []));
  for (const [start, rule] of rules.entries()) {
    const seen = new Set<string>();
    const path = [rule.toolPattern];
    let frontier = [rule.requires];
    while (frontier.length) {
      const next: string[] = [];
      for (const tool of frontier) {
        if (rule.tool.test(tool)) {
          throw new ContractError(`evidence.${start}: prerequisites form a cycle (${[...path, tool].join(' → ')}): ${rule.toolPattern} could never be called`, `evidence.${start}.requires`);
        }
        if (seen.has(tool)) continue;
        seen.add(tool);
        path.push(tool);
        for (const i of requiresOf(tool)) next.push(rules[i]!.requires);
      }
      frontier = next;
    }
  }
}

function compileApprovals(doc: ContractDocument, tools: ToolRule[] | null): ApprovalRule[] {
  const ids = new Set((doc.evidence ?? []).map((r) => r.id));
  return (doc.approvals ?? []).map((r, i) => {
    if (ids.has(r.id)) throw new ContractError(`approvals.${i}.id "${r.id}" is declared twice in this contract`, `approvals.${i}.id`);
    ids.add(r.id);
    if ((r.tool === undefined) === (r.model === undefined)) throw new ContractError(`approvals.${i} must name exactly one of tool or model`, `approvals.${i}`);
    if (r.model !== undefined && r.when) throw new ContractError(`approvals.${i}.when applies to tool gates only`, `approvals.${i}.when`);
    if (r.tool !== undefined && tools && !isGlob(r.tool) && !matchesTool(tools, r.tool)) {
      throw new ContractError(`approvals.${i}.tool "${r.tool}" is not an allowed tool of this contract: the gate can never apply`, `approvals.${i}.tool`);
    }
    for (const [path, c] of Object.entries(r.when ?? {})) {
      if (c.over !== undefined && c.under !== undefined && c.over >= c.under) {
        throw new ContractError(`approvals.${i}.when.${path}: over ${c.over} and under ${c.under} can never both hold`, `approvals.${i}.when.${path}`);
      }
    }
    const pattern = (r.tool ?? r.model)!;
    return {
      id: r.id,
      tool: r.tool !== undefined ? globToRegExp(r.tool) : null,
      model: r.model !== undefined ? globToRegExp(r.model) : null,
      pattern,
      when: Object.entries(r.when ?? {}),
      timeoutMs: (r.timeout_s ?? DEFAULT_APPROVAL_TIMEOUT_S) * 1000,
    };
  });
}

function compileHours(h: ContractDocument['hours']): Hours | null {
  if (!h) return null;
  if (h.from === h.to) throw new ContractError(`hours.from and hours.to are both ${h.from}: the window is empty`, 'hours.to');
  try {
    return new Hours((h.days ?? [...WEEKDAYS]) as Weekday[], h.from, h.to, h.tz ?? 'UTC');
  } catch (err) {
    throw new ContractError(`hours.tz: ${(err as Error).message}`, 'hours.tz');
  }
}

/** Compiles one validated contract document; contradictions are refused with their path. */
export function compileContract(doc: ContractDocument, source: string): Contract {
  const applies = doc.applies_to;
  if (!applies.agents?.length && !applies.teams?.length) throw new ContractError('applies_to must name at least one agent or team', 'applies_to');
  const levels = doc.levels ? new Set(doc.levels) : null;
  checkLevels(doc, levels);
  const tools = doc.tools ? Object.entries(doc.tools).map(([pattern, level]) => ({ pattern, re: globToRegExp(pattern), level: level === 'auto' ? null : level })) : null;
  return {
    name: doc.contract,
    version: doc.version,
    ref: `${doc.contract}@${doc.version}`,
    source,
    digest: hash('sha256', JSON.stringify(doc), 'hex').slice(0, 16),
    agents: applies.agents ?? [],
    teams: applies.teams ?? [],
    models: doc.models ? doc.models.map(globToRegExp) : null,
    modelPatterns: doc.models ?? null,
    destinations: doc.destinations ? doc.destinations.map(globToRegExp) : null,
    destinationPatterns: doc.destinations ?? null,
    tools,
    levels,
    evidence: compileEvidence(doc, tools),
    approvals: compileApprovals(doc, tools),
    hours: compileHours(doc.hours),
    rate: doc.rate ? { requests: doc.rate.requests, perMs: doc.rate.per_s * 1000 } : null,
    dataCeiling: doc.data_ceiling ?? null,
    regions: doc.regions ? doc.regions.map(globToRegExp) : null,
    regionPatterns: doc.regions ?? null,
  };
}

