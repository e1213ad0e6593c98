// The declared classifiers' scores as findings: a score at or above a classifier's threshold is a
// finding with its label over the whole text, named `classifier.<id>`; the content rules decide.
import type { ClassifierSpec } from '../../scan/classifier/classifier.js';
import type { Finding } from '../../scan/detectors/types.js';
import type { DetectResult } from '../../scan/messages.js';
import type { Scanner } from '../../scan/pool.js';

/** Findings per text from every classifier, in the shape of a detect result. */
export async function classifyAll(pool: Scanner, classifiers: readonly ClassifierSpec[], texts: string[]): Promise<DetectResult> {
  const scores = await Promise.all(classifiers.map((classifier) => pool.classify({ kind: 'classify', classifier, texts })));
  return texts.map((text, i) =>
    classifiers.flatMap((c, k): Finding[] => (scores[k]![i]! >= c.threshold ? [{ rule: `classifier.${c.id}`, label: c.label, family: 'injection', start: 0, end: text.length }] : [])),
  );
}
