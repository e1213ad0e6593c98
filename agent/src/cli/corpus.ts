// What the offline quality commands (content eval/train, mcp eval) share: a labelled corpus read
// from a directory of *.jsonl files, and the shipped detector set.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDefaultDetectors, parseCorpus, type CorpusItem, type DetectorSet } from '../../../proxy/src/index.js';
import { UsageError } from '../errors.js';
import { packageRoot } from '../paths.js';

/** Every item of every *.jsonl in `dir`, with the file each came from; an unreadable or empty directory is a usage error. */
export function readCorpus(dir: string): { items: CorpusItem[]; files: string[]; fileOf: Map<CorpusItem, string> } {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).sort();
  } catch {
    throw new UsageError(`--corpus ${dir}: not a readable directory`);
  }
  if (files.length === 0) throw new UsageError(`--corpus ${dir}: no .jsonl files`);
  const fileOf = new Map<CorpusItem, string>();
  const items = files.flatMap((f) => {
    const parsed = parseCorpus(readFileSync(join(dir, f), 'utf8'), f);
    for (const item of parsed) fileOf.set(item, f);
    return parsed;
  });
  return { items, files, fileOf };
}

/** The detectors the proxy runs, from the shipped rule file. */
export function shippedDetectors(): DetectorSet {
  return loadDefaultDetectors(join(packageRoot, 'policies', 'rules', 'gitleaks.toml')).set;
}
