// What the offline quality commands (content eval/train, mcp eval) share: a labelled corpus read
// from a directory of *.jsonl files (or one such file), and the shipped detector set.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Classifier, loadDefaultDetectors, parseCorpus, type CorpusItem, type DetectorSet } from '../../../proxy/src/index.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';

/**
 * Every item of every *.jsonl in `path` (a directory), or of the one .jsonl file `path` names, with the file each came
 * from; an unreadable path or one without .jsonl files is a usage error.
 */
export function readCorpus(path: string): { items: CorpusItem[]; files: string[]; fileOf: Map<CorpusItem, string> } {
  let dir = path;
  let files: string[];
  try {
    if (statSync(path).isFile()) {
      if (!path.endsWith('.jsonl')) throw new UsageError(`--corpus ${path}: a corpus file is *.jsonl`);
      dir = dirname(path);
      files = [basename(path)];
    } else files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`--corpus ${path}: not a readable directory or .jsonl file`);
  }
  if (files.length === 0) throw new UsageError(`--corpus ${path}: no .jsonl files`);
  const fileOf = new Map<CorpusItem, string>();
  const items = files.flatMap((f) => {
    let parsed: CorpusItem[];
    try {
      parsed = parseCorpus(readFileSync(join(dir, f), 'utf8'), f);
    } catch (err) {
      throw new UsageError(`--corpus ${(err as Error).message}`);
    }
    for (const item of parsed) fileOf.set(item, f);
    return parsed;
  });
  // An empty corpus would pass any --min-precision/--min-recall: nothing was measured.
  if (items.length === 0) throw new UsageError(`--corpus ${path}: no items in ${files.join(', ')}`);
  return { items, files, fileOf };
}

/** The detectors the proxy runs, from the shipped rule file. */
export function shippedDetectors(): DetectorSet {
  return loadDefaultDetectors(join(packageRoot, 'policies', 'rules', 'gitleaks.toml')).set;
}

/** Scores of an ONNX classifier built on Altrace's own features (`altrace content train`) for each text, as the scan workers would score them. */
export async function classifierScores(modelPath: string, texts: readonly string[]): Promise<number[]> {
  let classifier: Classifier;
  try {
    classifier = await Classifier.load({ id: 'eval', model: modelPath, version: '', label: 'eval', threshold: 1, tokenizer: null, positiveIndex: 1 });
  } catch (err) {
    throw new UsageError(`--classifier ${modelPath}: ${(err as Error).message.split('\n')[0]}`);
  }
  try {
    return await classifier.score([...texts]);
  } finally {
    await classifier.close();
  }
}
