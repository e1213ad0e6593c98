// A behavioral contract as an operator writes it (policies/contracts/*.yaml), after
// validation against policies/contract.schema.json. Field names are the YAML's.

export const ACTION_LEVELS = ['read', 'write', 'delete', 'execute'] as const;
export type ActionLevel = (typeof ACTION_LEVELS)[number];

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface EvidenceRuleDocument {
  id: string;
  /** The tool (name or glob) that needs evidence before the model may call it. */
  tool: string;
  /** The tool whose successful result is the evidence. */
  requires: string;
  /** Argument bindings: this tool's argument path → the prerequisite's argument path; equal values required. */
  match?: Record<string, string>;
}

export interface ApprovalRuleDocument {
  id: string;
  /** Gate tool calls the model makes to this tool (name or glob): held until an operator decides. */
  tool?: string;
  /** Gate requests for this model (glob), before the provider is called. */
  model?: string;
  /** Argument conditions (tool gates): path → condition; every one must hold for the gate to apply. */
  when?: Record<string, { over?: number; under?: number; equals?: string | number | boolean; in?: (string | number)[] }>;
  /** How long the request waits for a decision; then it is refused (ALT_APPROVAL_TIMEOUT). */
  timeout_s?: number;
}

export interface ContractDocument {
  contract: string;
  version: number;
  description?: string;
  applies_to: { agents?: string[]; teams?: string[] };
  /** Model globs; absent: this contract does not restrict models. */
  models?: string[];
  /**
   * Upstream names (openai, anthropic, gemini, azure, bedrock, a configured self-hosted upstream,
   * an MCP server as mcp:<name>) or the host names they are reached at; globs. Absent: not restricted.
   */
  destinations?: string[];
  /** Allowed tools (name or glob) and their action level; `auto` classifies by name and schema. */
  tools?: Record<string, ActionLevel | 'auto'>;
  /** Action levels this contract permits; absent: every level. */
  levels?: ActionLevel[];
  evidence?: EvidenceRuleDocument[];
  approvals?: ApprovalRuleDocument[];
  hours?: { days?: Weekday[]; from: string; to: string; tz?: string };
  /** The most sensitive data the agent may send: public, confidential (contact data, IBANs) or restricted (secrets, cards, national ids). */
  data_ceiling?: 'public' | 'confidential' | 'restricted';
  /** Where the destination may process the data (globs over the upstream's configured region). */
  regions?: string[];
  rate?: { requests: number; per_s: number };
}
