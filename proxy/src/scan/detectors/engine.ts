import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { loadGitleaks } from './gitleaks.js';
import { injectionDetectors } from './injection.js';
import { KeywordIndex } from './keywords.js';
import { passwordDetectors } from './passwords.js';
import { regulatedDataDetectors } from './pii.js';
import { extraSecretDetectors } from './secrets.js';
import type { Detector, Family, Finding } from './types.js';

// A rule set we did not write may hold a pattern that backtracks badly on some input; V8 then
// switches that match to its linear-time engine instead of stalling a worker. (Also set on the
// command line by `npm start` and the `altrace` binary; here for every other entry point.)
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

const NONE: readonly number[] = Object.freeze([]);

/**
 * Every detector, behind one keyword prefilter: a text is walked once for all keywords, and
 * only the detectors whose keywords occur (plus the few that have none) run their regexes.
 */
export class DetectorSet {
  readonly detectors: readonly Detector[];
  readonly #index: KeywordIndex;
  /** Keyword id → detectors that keyword admits. */
  readonly #byKeyword: number[][];
  readonly #always: number[];
  readonly #hit: Uint8Array;
  readonly #found: number[] = [];

  constructor(detectors: readonly Detector[]) {
    this.detectors = detectors;
    const ids = new Map<string, number>();
    this.#byKeyword = [];
    this.#always = [];
    detectors.forEach((d, i) => {
      if (d.keywords.length === 0) {
        this.#always.push(i);
        return;
      }
      for (const k of d.keywords) {
        let id = ids.get(k);
        if (id === undefined) {
          id = ids.size;
          ids.set(k, id);
          this.#byKeyword.push([]);
        }
        this.#byKeyword[id]!.push(i);
      }
    });
    this.#index = new KeywordIndex([...ids.keys()]);
    this.#hit = new Uint8Array(ids.size);
  }

  /**
   * The detectors worth running on text: those of the given families whose keywords occur
   * (or that have none), and whose gate, if they have one, passes. Empty means the text is clean without a regex run.
   */
  candidates(text: string, families: ReadonlySet<Family>): readonly number[] {
    if (text.length === 0) return NONE;
    let out: number[] | null = null;
    // Scratch space reused call after call (one thread per isolate): a clean fragment costs no
    // allocation. Only the keywords found are visited and cleared: a text holds few of hundreds.
    const hit = this.#hit;
    const found = this.#found;
    this.#clear(); // (after a gate that threw, the marks it left)
    this.#index.scan(text, hit, found);
    for (const i of this.#always) {
      const d = this.detectors[i]!;
      if (families.has(d.family) && (!d.gate || d.gate.test(text))) (out ??= []).push(i);
    }
    for (const k of found) {
      for (const i of this.#byKeyword[k]!) {
        if (out?.includes(i)) continue;
        const d = this.detectors[i]!;
        if (families.has(d.family) && (!d.gate || d.gate.test(text))) (out ??= []).push(i);
      }
    }
    this.#clear();
    return out ?? NONE;
  }

  #clear(): void {
    for (const k of this.#found) this.#hit[k] = 0;
    this.#found.length = 0;
  }

  /** Findings in text from the given families, in text order. Never the matched text itself. */
  scan(text: string, families: ReadonlySet<Family>): Finding[] {
    return this.run(text, this.candidates(text, families));
  }

  run(text: string, detectors: readonly number[]): Finding[] {
    const findings: Finding[] = [];
    for (const i of detectors) {
      const d = this.detectors[i]!;
      for (const s of d.find(text)) findings.push({ rule: d.id, label: d.label, family: d.family, start: s.start, end: s.end });
    }
    return findings.sort((a, b) => a.start - b.start || b.end - a.end);
  }
}

export interface DefaultDetectors {
  set: DetectorSet;
  /** gitleaks rules that could not be used here, and why. */
  skipped: { id: string; why: string }[];
}

/** The shipped detectors: gitleaks' rules from `rulesPath`, ours for what they miss, regulated data, injection. */
export function loadDefaultDetectors(rulesPath: string): DefaultDetectors {
  const gitleaks = loadGitleaks(readFileSync(rulesPath, 'utf8'));
  const set = new DetectorSet([...gitleaks.detectors, ...extraSecretDetectors(), ...passwordDetectors(), ...regulatedDataDetectors(), ...injectionDetectors()]);
  return { set, skipped: gitleaks.skipped };
}
