import type { DetectorSet } from './detectors/engine.js';
import type { Family } from './detectors/types.js';

/** One labelled text of the quality corpus (test/fixtures/content-corpus/*.jsonl). */
export interface CorpusItem {
  id: string;
  text: string;
  /** What the text should produce; empty for a hard negative. */
  labels: string[];
  note?: string;
  /** The kind of text within its label (a gathered set's own breakdown: "password-cli", "extraction", ...). */
  category?: string;
}

export interface CategoryQuality {
  category: string;
  /** Items of this category expecting the label, and how many of them it was found in. */
  expected: number;
  found: number;
  /** Items of this category that do not expect the label yet got it. */
  wrong: number;
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
  /** Per item category, where the corpus names categories. */
  categories: CategoryQuality[];
}

export interface EvaluateOptions {
  /** Whether a label is judged on an item at all (a set labelled for one family says nothing of the others); default every label. */
  judged?: (item: CorpusItem, label: string) => boolean;
  /** Labels found by something other than the detectors (a classifier), per item index. */
  extra?: (index: number) => readonly string[];
}

const EVERY: ReadonlySet<Family> = new Set(['secrets', 'pii', 'injection']);

/** Precision and recall per label over a corpus, every item scanned with every family (as untrusted content). */
export function evaluateCorpus(set: DetectorSet, items: readonly CorpusItem[], options: EvaluateOptions = {}): LabelQuality[] {
  const byLabel = new Map<string, LabelQuality>();
  const categories = new Map<string, Map<string, CategoryQuality>>();
  const entry = (label: string) => {
    let q = byLabel.get(label);
    if (!q) {
      q = { label, truePositives: 0, falsePositives: 0, falseNegatives: 0, precision: 1, recall: 1, missed: [], wrong: [], categories: [] };
      byLabel.set(label, q);
      categories.set(label, new Map());
    }
    return q;
  };
  const category = (label: string, name: string) => {
    const m = categories.get(label)!;
    let c = m.get(name);
    if (!c) m.set(name, (c = { category: name, expected: 0, found: 0, wrong: 0 }));
    return c;
  };
  items.forEach((item, index) => {
    const found = new Set([...set.scan(item.text, EVERY).map((f) => f.label), ...(options.extra?.(index) ?? [])]);
    const expected = new Set(item.labels);
    for (const label of new Set([...found, ...expected])) {
      if (options.judged && !options.judged(item, label)) continue;
      const q = entry(label);
      const c = item.category === undefined ? null : category(label, item.category);
      if (c && expected.has(label)) c.expected++;
      if (found.has(label) && expected.has(label)) {
        q.truePositives++;
        if (c) c.found++;
      } else if (found.has(label)) {
        q.falsePositives++;
        q.wrong.push(item.id);
        if (c) c.wrong++;
      } else {
        q.falseNegatives++;
        q.missed.push(item.id);
      }
    }
  });
  for (const [label, m] of categories) byLabel.get(label)!.categories = [...m.values()].sort((a, b) => a.category.localeCompare(b.category));
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
