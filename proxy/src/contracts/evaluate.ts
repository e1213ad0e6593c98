import type { ReasonCode } from '../core/reasons.js';
import type { CallView } from '../core/call-view.js';
import { matchesAny } from '../policy/globs.js';
import { classifyTool } from './action-levels.js';
import { declaredLevel, toolListed, type Contract, type EvidenceRule } from './compile.js';
import { missingEvidence, type Evidence } from './evidence.js';

/** Why a contract refuses: the reason code, a content-free detail, and what would make it acceptable. */
export interface ContractRefusal {
  contract: Contract;
  reason: ReasonCode;
  detail: string;
  hint: string;
}

function refuse(contract: Contract, reason: ReasonCode, detail: string, hint: string): ContractRefusal {
  return { contract, reason, detail: `${contract.ref}: ${detail}`, hint };
}

function allowedTools(c: Contract): string {
  return c.tools!.map((t) => t.pattern).join(', ') || '(none)';
}

/** A tool's action level under a contract: declared there, else by name and schema. */
export function toolLevel(c: Contract, name: string, schema?: unknown): ReturnType<typeof classifyTool> {
  return declaredLevel(c, name) ?? classifyTool(name, schema);
}

/** May a principal under `c` use (declare, call) this tool? */
export function checkTool(c: Contract, name: string, schema?: unknown): ContractRefusal | null {
  if (!toolListed(c, name)) {
    return refuse(c, 'ALT_TOOL_NOT_ALLOWED', `tool ${name} is not in the contract`, `Contract ${c.ref} allows these tools only: ${allowedTools(c)}. Remove ${name} from the request.`);
  }
  if (c.levels) {
    const level = toolLevel(c, name, schema);
    if (!c.levels.has(level)) {
      return refuse(c, 'ALT_ACTION_LEVEL_DENIED', `tool ${name} is a ${level} action`, `Contract ${c.ref} permits ${[...c.levels].join(', ')} actions only; ${name} is classified ${level}. Use a tool of a permitted level.`);
    }
  }
  return null;
}

/** Where an upstream processes data, as configured; null when unknown. */
export type RegionOf = (upstream: string) => string | null;
/** The host an upstream is reached at (its configured base URL); null when unknown. */
export type HostOf = (upstream: string) => string | null;

/** A destination pattern names the upstream, or the host the proxy sends the request to. */
function destinationAllowed(c: Contract, upstream: string, host: string | null): boolean {
  return c.destinations!.some((r) => r.test(upstream) || (host !== null && r.test(host)));
}

/** The request-side checks of one contract, in a fixed order: hours, model, destination, region, tools. */
export function checkRequest(c: Contract, call: CallView, now: number, regionOf: RegionOf = () => null, hostOf: HostOf = () => null): ContractRefusal | null {
  if (c.hours && !c.hours.contains(now)) {
    return refuse(c, 'ALT_OUTSIDE_HOURS', 'outside the contract hours', `Contract ${c.ref} allows requests ${c.hours.describe()} only; retry within that window.`);
  }
  if (c.models && call.model !== null && call.operation !== 'models' && !matchesAny(c.models, call.model)) {
    return refuse(c, 'ALT_CONTRACT_MODEL_DENIED', `model ${call.model}`, `Contract ${c.ref} allows these models only: ${c.modelPatterns!.join(', ')}.`);
  }
  // By upstream name (`openai` is OpenAI itself, not every OpenAI-compatible server: those have their own names) or by host.
  if (c.destinations && !destinationAllowed(c, call.upstream, hostOf(call.upstream))) {
    const host = hostOf(call.upstream);
    return refuse(c, 'ALT_CONTRACT_DESTINATION_DENIED', `upstream ${call.upstream}${host ? ` (${host})` : ''}`, `Contract ${c.ref} allows these destinations only: ${c.destinationPatterns!.join(', ')}.`);
  }
  if (c.regions) {
    const region = regionOf(call.upstream);
    if (region === null) {
      return refuse(c, 'ALT_CONTRACT_REGION_DENIED', `upstream ${call.upstream} has no configured region`, `Contract ${c.ref} allows regions ${c.regionPatterns!.join(', ')} only, and ${call.upstream}'s region is not configured (providers.${call.upstream}.region): an operator must set it.`);
    }
    if (!matchesAny(c.regions, region)) {
      return refuse(c, 'ALT_CONTRACT_REGION_DENIED', `upstream ${call.upstream} is in ${region}`, `Contract ${c.ref} allows regions ${c.regionPatterns!.join(', ')} only; ${call.upstream} processes data in ${region}. Use an upstream in an allowed region.`);
    }
  }
  for (const t of call.tools) {
    const r = checkTool(c, t.name, t.schema);
    if (r) return r;
  }
  for (const tc of call.toolCalls) {
    const r = checkTool(c, tc.name, schemaOf(call, tc.name));
    if (r) return r;
  }
  return null;
}

export function schemaOf(call: CallView, name: string): unknown {
  return call.tools.find((t) => t.name === name)?.schema;
}

/** Evidence rules of any of the contracts that apply to calls of `tool`. */
export function evidenceRulesFor(contracts: readonly Contract[], tool: string): { contract: Contract; rule: EvidenceRule }[] {
  const out: { contract: Contract; rule: EvidenceRule }[] = [];
  for (const c of contracts) for (const rule of c.evidence) if (rule.tool.test(tool)) out.push({ contract: c, rule });
  return out;
}

/** Checks a complete tool call the model makes: the tool itself, then its evidence prerequisites. */
export function checkToolCall(contracts: readonly Contract[], call: CallView, name: string, args: unknown, evidence: readonly Evidence[]): ContractRefusal | null {
  const schema = schemaOf(call, name);
  for (const c of contracts) {
    const r = checkTool(c, name, schema);
    if (r) return r;
  }
  return checkEvidence(contracts, name, args, evidence);
}

/** The evidence prerequisites of a complete call whose tool is already known to be allowed. */
export function checkEvidence(contracts: readonly Contract[], name: string, args: unknown, evidence: readonly Evidence[]): ContractRefusal | null {
  for (const { contract, rule } of evidenceRulesFor(contracts, name)) {
    const missing = missingEvidence(rule, args, evidence);
    if (missing) {
      return refuse(contract, 'ALT_EVIDENCE_REQUIRED', `${name} without ${rule.requires} (rule ${rule.id})`, `${name} needs evidence first (rule ${rule.id}): ${missing}, then retry.`);
    }
  }
  return null;
}
