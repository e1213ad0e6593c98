import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateCorpus, type CorpusItem, type LabelQuality } from '../../../proxy/src/index.js';
import { DEFAULT_TRAIN_OPTIONS, linearModelToOnnx, trainLinear } from '../content/train.js';
import { UsageError } from '../errors.js';
import { ratio } from './client.js';
import { classifierScores, readCorpus, shippedDetectors } from './corpus.js';
import { packageRoot } from '../paths.js';

const HELP = `altrace content — the content detectors, offline

Usage:
  altrace content eval [--corpus DIR|FILE.jsonl] [--min-precision P] [--min-recall R] [--labels L,L]
                       [--scope-by-file] [--classifier MODEL.onnx --classifier-as LABEL [--threshold T]] [--json]
  altrace content train --corpus DIR --positive L,L --out MODEL.onnx [--dims N] [--epochs N]
  altrace content rules [--json]

eval     scans every text of a labelled corpus (*.jsonl: {"id","text","labels":[...],"category"?})
         with the shipped detectors and prints precision and recall per label, and recall per
         category where items name one. Default corpus: test/fixtures/content-corpus.
         --scope-by-file   a file named for a family (secrets, payment, pii, injection) is judged
                           on that family's labels only (a set labelled for one family says
                           nothing of the others).
         --classifier      also runs an ONNX classifier (as content.classifiers would); a score
                           at or above --threshold (0.5) counts as the label --classifier-as.
         With --min-precision/--min-recall, exits 1 when a label (or one of --labels) falls below.
train    fits Altrace's own classifier (logistic regression over hashed n-grams) to a labelled
         corpus: items with one of the --positive labels (a family prefix covers its labels) are
         positive, the rest negative. Writes an ONNX file content.classifiers can load.
rules    lists the detectors: rule id, label, family, keywords.
`;

/** The labels a file named for a family is labelled for. */
const FILE_FAMILIES: Record<string, string[]> = { 'secrets.jsonl': ['secret'], 'payment.jsonl': ['pci'], 'pii.jsonl': ['pii'], 'injection.jsonl': ['injection'] };


const covers = (prefixes: readonly string[], label: string) => prefixes.some((p) => label === p || label.startsWith(`${p}.`));

function printQuality(quality: LabelQuality[], failing: LabelQuality[]): void {
  process.stdout.write(`${'label'.padEnd(26)} ${'precision'.padStart(9)} ${'recall'.padStart(7)}   TP  FP  FN\n`);
  for (const q of quality) {
    const flag = failing.includes(q) ? '  ← below threshold' : '';
    process.stdout.write(`${q.label.padEnd(26)} ${q.precision.toFixed(3).padStart(9)} ${q.recall.toFixed(3).padStart(7)} ${String(q.truePositives).padStart(4)}${String(q.falsePositives).padStart(4)}${String(q.falseNegatives).padStart(4)}${flag}\n`);
    for (const c of q.categories) {
      const recall = c.expected ? ` recall ${(c.found / c.expected).toFixed(3)} (${c.found}/${c.expected})` : '';
      const wrong = c.wrong ? ` wrongly labelled ${c.wrong}` : '';
      if (recall || wrong) process.stdout.write(`${''.padEnd(4)}${c.category.padEnd(24)}${recall}${wrong}\n`);
    }
    if (q.missed.length) process.stdout.write(`${''.padEnd(28)}missed: ${q.missed.slice(0, 8).join(' ')}${q.missed.length > 8 ? ' …' : ''}\n`);
    if (q.wrong.length) process.stdout.write(`${''.padEnd(28)}wrong:  ${q.wrong.slice(0, 8).join(' ')}${q.wrong.length > 8 ? ' …' : ''}\n`);
  }
}


export async function contentCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      corpus: { type: 'string' },
      'min-precision': { type: 'string' },
      'min-recall': { type: 'string' },
      labels: { type: 'string' },
      'scope-by-file': { type: 'boolean' },
      classifier: { type: 'string' },
      'classifier-as': { type: 'string' },
      threshold: { type: 'string' },
      positive: { type: 'string' },
      out: { type: 'string' },
      dims: { type: 'string' },
      epochs: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const set = shippedDetectors();
  switch (positionals[0]) {
    case 'rules': {
      const rows = set.detectors.map((d) => ({ id: d.id, label: d.label, family: d.family, keywords: d.keywords }));
      if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else for (const r of rows) process.stdout.write(`${r.id.padEnd(44)} ${r.label.padEnd(26)} ${r.family.padEnd(10)} ${r.keywords.join(',')}\n`);
      return 0;
    }
    case 'eval': {
      const dir = resolve(values.corpus ?? join(packageRoot, 'test', 'fixtures', 'content-corpus'));
      const { items, files, fileOf } = readCorpus(dir);
      const minP = ratio(values['min-precision'], 'min-precision');
      const minR = ratio(values['min-recall'], 'min-recall');
      let extra: ((i: number) => string[]) | undefined;
      if (values.classifier) {
        const as = values['classifier-as'];
        if (!as) throw new UsageError('--classifier needs --classifier-as LABEL (the label its score counts as)');
        const threshold = ratio(values.threshold, 'threshold') ?? 0.5;
        const scores = await classifierScores(resolve(values.classifier), items.map((i) => i.text));
        extra = (i) => (scores[i]! >= threshold ? [as] : []);
      }
      const judged = values['scope-by-file'] ? (item: CorpusItem, label: string) => covers(FILE_FAMILIES[fileOf.get(item)!] ?? [], label) : undefined;
      const quality = evaluateCorpus(set, items, { ...(judged ? { judged } : {}), ...(extra ? { extra } : {}) });
      const gated = values.labels ? new Set(values.labels.split(',').map((l) => l.trim())) : null;
      const failing = quality.filter((q) => (!gated || gated.has(q.label)) && ((minP !== null && q.precision < minP) || (minR !== null && q.recall < minR)));
      if (values.json) process.stdout.write(JSON.stringify({ corpus: dir, items: items.length, labels: quality, failing: failing.map((q) => q.label) }, null, 2) + '\n');
      else {
        process.stdout.write(`corpus ${dir}: ${items.length} texts in ${files.length} files${values.classifier ? `, classifier ${values.classifier}` : ''}\n\n`);
        printQuality(quality, failing);
      }
      return failing.length > 0 ? 1 : 0;
    }
    case 'train': {
      if (!values.corpus || !values.positive || !values.out) throw new UsageError('train needs --corpus DIR, --positive L,L and --out MODEL.onnx');
      const positive = values.positive.split(',').map((l) => l.trim()).filter(Boolean);
      const dims = values.dims === undefined ? DEFAULT_TRAIN_OPTIONS.dims : Number(values.dims);
      if (!Number.isInteger(dims) || dims < 64 || (dims & (dims - 1)) !== 0) throw new UsageError('--dims must be a power of two, at least 64');
      const epochs = values.epochs === undefined ? DEFAULT_TRAIN_OPTIONS.epochs : Number(values.epochs);
      if (!Number.isInteger(epochs) || epochs < 1) throw new UsageError('--epochs must be a positive integer');
      const { items } = readCorpus(resolve(values.corpus));
      const texts = items.map((i) => ({ text: i.text, positive: i.labels.some((l) => covers(positive, l)) }));
      const model = trainLinear(texts, { ...DEFAULT_TRAIN_OPTIONS, dims, epochs });
      writeFileSync(resolve(values.out), linearModelToOnnx(model, `trained on ${values.corpus} (${texts.length} texts; positive: ${positive.join(', ')})`));
      const n = texts.filter((t) => t.positive).length;
      process.stdout.write(`wrote ${values.out}: ${dims} features, ${texts.length} texts (${n} positive, ${texts.length - n} negative), ${epochs} epochs\n`);
      return 0;
    }
    default:
      throw new UsageError(positionals[0] ? `unknown subcommand "${positionals[0]}"` : 'name a subcommand: eval, train or rules');
  }
}
