import type { DetectorSet } from './detectors/engine.js';
import type { Family } from './detectors/types.js';

/** One labelled text of the quality corpus (test/fixtures/content-corpus/*.jsonl). */
export interface CorpusItem {
  id: string;
  text: string;
  /** What the text should produce; empty for a hard negative. */
  labels: string[];
  note?: string;
}

export interface LabelQuality {
  label: string;
  truePositives: number;
  falsePositives: number;
  falseNegatives: number;
  precision: number;
  recall: number;
  /** Item ids the detector got wrong, for whoever tunes it. */
  missed: string[];
  wrong: string[];
}

const EVERY: ReadonlySet<Family> = new Set(['secrets', 'pii', 'injection']);

/** Precision and recall per label over a corpus, every item scanned with every family (as untrusted content). */
export function evaluateCorpus(set: DetectorSet, items: readonly CorpusItem[]): LabelQuality[] {
  const byLabel = new Map<string, LabelQuality>();
  const entry = (label: string) => {
    let q = byLabel.get(label);
    if (!q) {
      q = { label, truePositives: 0, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1, missed: [], wrong: [] };
      byLabel.set(label, q);
    }
    return q;
  };
  for (const item of items) {
    const found = new Set(set.scan(item.text, EVERY).map((f) => f.label));
    const expected = new Set(item.labels);
    for (const label of new Set([...found, ...expected])) {
      const q = entry(label);
      if (found.has(label) && expected.has(label)) q.truePositives++;
      else if (found.has(label)) {
        q.falsePositives++;
        q.wrong.push(item.id);
      } else {
        q.falseNegatives++;
        q.missed.push(item.id);
      }
    }
  }
  for (const q of byLabel.values()) {
    q.precision = q.truePositives + q.falsePositives === 0 ? 1 : q.truePositives / (q.truePositives + q.falsePositives);
    q.recall = q.truePositives + q.falseNegatives === 0 ? 1 : q.truePositives / (q.truePositives + q.falseNegatives);
  }
  return [...byLabel.values()].sort((a, b) => a.label.localeCompare(b.label));
}

/** A corpus file: one JSON object per line; a bad line is named, not skipped. */
export function parseCorpus(text: string, source: string): CorpusItem[] {
  return text
    .split('\n')
    .map((line, i) => ({ line, n: i + 1 }))
    .filter(({ line }) => line.trim() !== '')
    .map(({ line, n }) => {
      let item: CorpusItem;
      try {
        item = JSON.parse(line) as CorpusItem;
      } catch (err) {
        throw new Error(`${source}:${n}: not JSON (${(err as Error).message})`);
      }
      if (typeof item.text !== 'string' || !Array.isArray(item.labels)) throw new Error(`${source}:${n}: needs "text" (string) and "labels" (array)`);
      return item;
    });
}
