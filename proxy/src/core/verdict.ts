import type { ReasonCode } from './reasons.js';

/** Outcomes in increasing severity; the design's vocabulary. */
export type Outcome = 'allow' | 'warn' | 'throttle' | 'hold' | 'block' | 'kill';

export interface Verdict {
  outcome: Outcome;
  reason: ReasonCode;
  stage: string;
  /** What would make the request acceptable; defaults to the reason's hint. */
  hint?: string;
  /** A short, content-free explanation for operators (never prompt text). */
  detail?: string;
  /** A refusal that can succeed later (reason retry class `later`): how long until it can, in ms. */
  retryAfterMs?: number;
}

export function isStop(v: Verdict): boolean {
  return v.outcome === 'block' || v.outcome === 'kill' || v.outcome === 'throttle' || v.outcome === 'hold';
}

export const ALLOWED: Verdict = Object.freeze({ outcome: 'allow', reason: 'ALT_ALLOWED', stage: 'chain' }) as Verdict;

export function block(stage: string, reason: ReasonCode, detail?: string, hint?: string): Verdict {
  const v: Verdict = { outcome: 'block', reason, stage };
  if (detail !== undefined) v.detail = detail;
  if (hint !== undefined) v.hint = hint;
  return v;
}

export function warn(stage: string, reason: ReasonCode, detail?: string): Verdict {
  const v: Verdict = { outcome: 'warn', reason, stage };
  if (detail !== undefined) v.detail = detail;
  return v;
}
