import type { Principal } from '../identity/keys.js';
import type { ReasonCode } from '../core/reasons.js';
import type { ClassifierSpec } from '../scan/classifier/classifier.js';

/** What the policy does with a label, mildest first. */
export const CONTENT_ACTIONS = ['allow', 'flag', 'redact', 'block'] as const;
export type ContentAction = (typeof CONTENT_ACTIONS)[number];
export type Direction = 'request' | 'response';

/** As written in a policy file under `content.rules`. */
export interface ContentRuleDocument {
  label: string;
  direction?: Direction | 'both';
  action: ContentAction;
  teams?: string[];
  agents?: string[];
}

export interface ContentRule {
  label: string;
  directions: ReadonlySet<Direction>;
  action: ContentAction;
  teams: ReadonlySet<string> | null;
  agents: ReadonlySet<string> | null;
}

export interface IsolationPolicy {
  /** Data one upstream saw or produced in a run, sent to another upstream. */
  crossProvider: 'allow' | 'flag' | 'block';
  /** Upstreams regulated labels (pii.*, pci.*) may reach; null: any. */
  regulatedDestinations: ReadonlySet<string> | null;
}

export interface ContentPolicy {
  enabled: boolean;
  /** Plant a canary in every system prompt and cut responses that repeat it. */
  canary: boolean;
  isolation: IsolationPolicy;
  rules: readonly ContentRule[];
  /** For a label no rule names. */
  defaultAction: ContentAction;
  /** Classifiers over content the agent did not write; their labels go through `rules` like any other. */
  classifiers: readonly ClassifierSpec[];
}

/** As written under `content.classifiers`; the loader has made `model` and `tokenizer.vocab` absolute. */
export interface ClassifierDocument {
  id: string;
  model: string;
  label?: string;
  threshold?: number;
  positive_index?: number;
  tokenizer?: { vocab: string; lower_case?: boolean; max_tokens?: number };
  /** Set by the loader from the model file (size and time), so workers reload a replaced file. */
  version?: string;
}

export interface ContentDocument {
  enabled?: boolean;
  canary?: boolean;
  default?: ContentAction;
  rules?: ContentRuleDocument[];
  isolation?: { cross_provider?: IsolationPolicy['crossProvider']; regulated_destinations?: string[] };
  classifiers?: ClassifierDocument[];
}

export const DEFAULT_CONTENT_POLICY: ContentPolicy = { enabled: false, canary: false, rules: [], defaultAction: 'allow', isolation: { crossProvider: 'allow', regulatedDestinations: null }, classifiers: [] };

const DEFAULT_CLASSIFIER_LABEL = 'injection.classifier';

function compileClassifier(c: ClassifierDocument): ClassifierSpec {
  return {
    id: c.id,
    model: c.model,
    version: c.version ?? '',
    label: c.label ?? DEFAULT_CLASSIFIER_LABEL,
    threshold: c.threshold ?? 0.5,
    positiveIndex: c.positive_index ?? 1,
    tokenizer: c.tokenizer ? { kind: 'wordpiece', vocab: c.tokenizer.vocab, lowerCase: c.tokenizer.lower_case ?? true, maxTokens: c.tokenizer.max_tokens ?? 512 } : null,
  };
}

export function compileContentPolicy(doc: ContentDocument | undefined): ContentPolicy {
  if (!doc) return DEFAULT_CONTENT_POLICY;
  return {
    enabled: doc.enabled ?? true,
    canary: doc.canary ?? false,
    isolation: {
      crossProvider: doc.isolation?.cross_provider ?? 'allow',
      regulatedDestinations: doc.isolation?.regulated_destinations ? new Set(doc.isolation.regulated_destinations) : null,
    },
    defaultAction: doc.default ?? 'allow',
    rules: (doc.rules ?? []).map((r) => ({
      label: r.label,
      directions: new Set<Direction>(r.direction === undefined || r.direction === 'both' ? ['request', 'response'] : [r.direction]),
      action: r.action,
      teams: r.teams ? new Set(r.teams) : null,
      agents: r.agents ? new Set(r.agents) : null,
    })),
    classifiers: (doc.classifiers ?? []).map(compileClassifier),
  };
}

/** `pii` covers `pii.email`; a rule names a label or a family of labels. */
function covers(ruleLabel: string, label: string): boolean {
  return label === ruleLabel || label.startsWith(`${ruleLabel}.`);
}

/** The first rule that names the label, in this direction, for this principal, decides; otherwise the default. */
export function actionFor(policy: ContentPolicy, label: string, direction: Direction, principal: Principal | null): ContentAction {
  for (const r of policy.rules) {
    if (!r.directions.has(direction) || !covers(r.label, label)) continue;
    if (r.teams && !(principal && r.teams.has(principal.team))) continue;
    if (r.agents && !(principal && r.agents.has(principal.agent))) continue;
    return r.action;
  }
  return policy.defaultAction;
}

/** Whether any rule (or the default) could redact in this direction for this principal. */
export function mayRedact(policy: ContentPolicy, direction: Direction, principal: Principal | null): boolean {
  if (policy.defaultAction === 'redact') return true;
  return policy.rules.some(
    (r) => r.action === 'redact' && r.directions.has(direction) && (!r.teams || (principal !== null && r.teams.has(principal.team))) && (!r.agents || (principal !== null && r.agents.has(principal.agent))),
  );
}

export function severer(a: ContentAction, b: ContentAction): ContentAction {
  return CONTENT_ACTIONS.indexOf(a) >= CONTENT_ACTIONS.indexOf(b) ? a : b;
}

/** The reason a blocked label is refused with. */
export function reasonForLabel(label: string): ReasonCode {
  if (label === 'secret' || label.startsWith('secret.')) return 'ALT_CONTENT_SECRET';
  if (label === 'injection.followed') return 'ALT_INJECTION_FOLLOWED';
  if (label.startsWith('leak.')) return 'ALT_SYSTEM_PROMPT_LEAK';
  if (label.startsWith('injection')) return 'ALT_PROMPT_INJECTION';
  return 'ALT_CONTENT_REGULATED';
}
