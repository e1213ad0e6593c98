import type { DenyPattern, ScanHit, ScanTask } from './messages.js';

export interface CompiledPattern {
  id: string;
  re: RegExp;
}

export function compilePatterns(patterns: readonly DenyPattern[]): CompiledPattern[] {
  return patterns.map((p) => ({ id: p.id, re: new RegExp(p.pattern, p.flags.replace(/[gy]/g, '')) }));
}

/**
 * Scans fragments in order, each together with the text before it (the carry), so a
 * pattern split across fragments is attributed to the fragment that completes it.
 * The carry already passed, so any match must end inside the new text.
 */
export function scanTexts(compiled: readonly CompiledPattern[], task: Pick<ScanTask, 'carry' | 'texts'>, carryLimit: number): ScanHit | null {
  let carry = task.carry;
  for (let i = 0; i < task.texts.length; i++) {
    const text = task.texts[i]!;
    if (text.length === 0) continue;
    const window = carry + text;
    for (const p of compiled) {
      if (p.re.test(window)) return { index: i, patternId: p.id };
    }
    carry = window.length > carryLimit ? window.slice(window.length - carryLimit) : window;
  }
  return null;
}

export function nextCarry(carry: string, texts: readonly string[], carryLimit: number): string {
  let s = carry;
  for (const t of texts) s += t;
  return s.length > carryLimit ? s.slice(s.length - carryLimit) : s;
}
