import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateCorpus, loadDefaultDetectors, parseCorpus, type CorpusItem } from '../../../proxy/src/index.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';

const HELP = `altrace content — the content detectors, offline

Usage:
  altrace content eval [--corpus DIR] [--min-precision P] [--min-recall R] [--labels L,L] [--json]
  altrace content rules [--json]

eval     scans every text of a labelled corpus (*.jsonl: {"id","text","labels":[...]}) with
         the shipped detectors and prints precision and recall per label. Default corpus:
         test/fixtures/content-corpus. With --min-precision/--min-recall, exits 1 when a
         label (or one of --labels) falls below.
rules    lists the detectors: rule id, label, family, keywords.
`;

function ratio(v: string | undefined, flag: string): number | null {
  if (v === undefined) return null;
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new UsageError(`--${flag} must be a number between 0 and 1`);
  return n;
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
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const { set } = loadDefaultDetectors(join(packageRoot, 'policies', 'rules', 'gitleaks.toml'));
  switch (positionals[0]) {
    case 'rules': {
      const rows = set.detectors.map((d) => ({ id: d.id, label: d.label, family: d.family, keywords: d.keywords }));
      if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n');
      else for (const r of rows) process.stdout.write(`${r.id.padEnd(44)} ${r.label.padEnd(26)} ${r.family.padEnd(10)} ${r.keywords.join(',')}\n`);
      return 0;
    }
    case 'eval': {
      const dir = resolve(values.corpus ?? join(packageRoot, 'test', 'fixtures', 'content-corpus'));
      let files: string[];
      try {
        files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
      } catch {
        throw new UsageError(`--corpus ${dir}: not a readable directory`);
      }
      if (files.length === 0) throw new UsageError(`--corpus ${dir}: no .jsonl files`);
      const items: CorpusItem[] = files.flatMap((f) => parseCorpus(readFileSync(join(dir, f), 'utf8'), f));
      const quality = evaluateCorpus(set, items);
      const minP = ratio(values['min-precision'], 'min-precision');
      const minR = ratio(values['min-recall'], 'min-recall');
      const gated = values.labels ? new Set(values.labels.split(',').map((l) => l.trim())) : null;
      const failing = quality.filter((q) => (!gated || gated.has(q.label)) && ((minP !== null && q.precision < minP) || (minR !== null && q.recall < minR)));
      if (values.json) process.stdout.write(JSON.stringify({ corpus: dir, items: items.length, labels: quality, failing: failing.map((q) => q.label) }, null, 2) + '\n');
      else {
        process.stdout.write(`corpus ${dir}: ${items.length} texts in ${files.length} files\n\n`);
        process.stdout.write(`${'label'.padEnd(26)} ${'precision'.padStart(9)} ${'recall'.padStart(7)}   TP  FP  FN\n`);
        for (const q of quality) {
          const flag = failing.includes(q) ? '  ← below threshold' : '';
          process.stdout.write(`${q.label.padEnd(26)} ${q.precision.toFixed(3).padStart(9)} ${q.recall.toFixed(3).padStart(7)} ${String(q.truePositives).padStart(4)}${String(q.falsePositives).padStart(4)}${String(q.falseNegatives).padStart(4)}${flag}\n`);
          if (q.missed.length) process.stdout.write(`${''.padEnd(28)}missed: ${q.missed.slice(0, 8).join(' ')}${q.missed.length > 8 ? ' …' : ''}\n`);
          if (q.wrong.length) process.stdout.write(`${''.padEnd(28)}wrong:  ${q.wrong.slice(0, 8).join(' ')}${q.wrong.length > 8 ? ' …' : ''}\n`);
        }
      }
      return failing.length > 0 ? 1 : 0;
    }
    default:
      throw new UsageError(positionals[0] ? `unknown subcommand "${positionals[0]}"` : 'name a subcommand: eval or rules');
  }
}
