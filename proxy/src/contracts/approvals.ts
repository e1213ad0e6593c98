import type { ApprovalRule } from './compile.js';
import { argumentsObject, valueAt } from './evidence.js';

/** What an approval gate asks an operator: who, under which contract and rule, to do what. */
export interface ApprovalAsk {
  requestId: string;
  agent: string;
  team: string;
  keyId: string;
  run: string | null;
  /** `name@version` of the contract whose rule holds the request. */
  contract: string;
  rule: string;
  /** mcp-pin: an MCP tool listed unlike its pin (or new), whose new definition an approval pins; no request waits on it. */
  kind: 'tool' | 'model' | 'mcp-pin';
  /** The tool the model calls, the model the request asks for, or the MCP tool and its change. */
  subject: string;
  /** The tool call's arguments (JSON text, at most 4 KiB), for the operator to judge; kept in memory only. */
  arguments: string | null;
  timeoutMs: number;
}

export type ApprovalOutcome = 'approved' | 'denied' | 'expired';

export interface ApprovalAnswer {
  id: string;
  outcome: ApprovalOutcome;
  by: string | null;
  reason: string | null;
}

/** Where gates send their questions and wait: the agent's approval service (persisted, control API, CLI). */
export interface ApprovalDesk {
  ask(a: ApprovalAsk): Promise<ApprovalAnswer>;
}

export const MAX_APPROVAL_ARGUMENTS = 4096;

export interface ArgumentCondition {
  over?: number;
  under?: number;
  equals?: string | number | boolean;
  in?: (string | number)[];
}

function holds(v: unknown, c: ArgumentCondition): boolean {
  if (c.over !== undefined && !(typeof v === 'number' && v > c.over) && !(typeof v === 'string' && Number(v) > c.over)) return false;
  if (c.under !== undefined && !(typeof v === 'number' && v < c.under) && !(typeof v === 'string' && v !== '' && Number(v) < c.under)) return false;
  if (c.equals !== undefined && String(v) !== String(c.equals)) return false;
  if (c.in !== undefined && !c.in.some((x) => String(x) === String(v))) return false;
  return true;
}

/** Whether a tool call's arguments meet every condition of a rule (a rule without conditions gates every call). */
export function conditionsHold(rule: ApprovalRule, args: unknown): boolean {
  if (rule.when.length === 0) return true;
  const obj = argumentsObject(args);
  return rule.when.every(([path, c]) => holds(valueAt(obj, path), c));
}

export function argumentsText(args: unknown): string | null {
  if (args === undefined) return null;
  const text = typeof args === 'string' ? args : JSON.stringify(args);
  return text.length > MAX_APPROVAL_ARGUMENTS ? text.slice(0, MAX_APPROVAL_ARGUMENTS) + '…' : text;
}
