// The layering of proxy/src, read from its import graph: core/ is the shared vocabulary every
// folder may use and itself uses nothing of the rest; the chain is used only by the layer above
// it (pipeline/, decider/, proxy.ts) and by index.ts, which exports it to the agent. A lower folder that
// needs a verdict, a reason code or a call view finds it in core/, not by importing the chain.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { ROOT } from '../helpers/process.js';

const SRC = join(ROOT, 'proxy/src');

/** Files of proxy/src (paths relative to it) and the proxy/src files each one imports. */
type ImportGraph = Map<string, string[]>;

// Static imports and re-exports (over several lines too), side-effect imports, dynamic import().
const SPECIFIER = /\b(?:import|export)\b[^;'"]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g;

function specifiers(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

function importGraph(): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const entry of readdirSync(SRC, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = relative(SRC, join(entry.parentPath, entry.name)).split('\\').join('/');
    const targets = specifiers(readFileSync(join(SRC, file), 'utf8'))
      .filter((s) => s.startsWith('.'))
      .map((s) => posix.normalize(posix.join(posix.dirname(file), s)).replace(/\.js$/, '.ts'));
    graph.set(file, targets);
  }
  return graph;
}

const CHAIN_USERS = [/^chain\//, /^pipeline\//, /^decider\//, /^proxy\.ts$/, /^index\.ts$/];

/** One line per import that breaks the layering. */
function layoutViolations(graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const [file, targets] of graph) {
    for (const target of targets) {
      if (file.startsWith('core/') && !target.startsWith('core/')) out.push(`${file} imports ${target}: core/ imports nothing outside core/`);
      if (target.startsWith('chain/') && !CHAIN_USERS.some((r) => r.test(file))) out.push(`${file} imports ${target}: only chain/, pipeline/, decider/, proxy.ts and index.ts import the chain`);
    }
  }
  return out;
}

test('proxy/src keeps its layers: core/ imports only core/, and only the layers above the chain import chain/', (t) => {
  t.deepEqual(layoutViolations(importGraph()), []);
});

test('the import graph sees what proxy/src imports, multi-line imports and re-exports included', (t) => {
  const graph = importGraph();
  t.true(graph.get('chain/chain.ts')?.includes('core/verdict.ts'));
  t.true(graph.get('index.ts')?.includes('chain/chain.ts'), 'index.ts re-exports the chain');
  t.true(graph.get('core/fragment.ts')?.includes('core/verdict.ts'));
  for (const folder of ['core/', 'chain/', 'pipeline/']) t.true([...graph.keys()].some((f) => f.startsWith(folder)), `${folder} has files`);
  t.deepEqual(specifiers("import {\n  a,\n  type B,\n} from './x.js';\nexport * from \"../y.js\";\nimport './z.js';\nconst m = await import('./w.js');"), ['./x.js', '../y.js', './z.js', './w.js']);
});

test('a lower folder importing the chain, or core/ importing the rest, is reported', (t) => {
  const graph: ImportGraph = new Map([
    ['scan/stream-mask.ts', ['chain/context.ts', 'core/fragment.ts']],
    ['core/usage.ts', ['providers/adapter.ts', 'core/verdict.ts']],
    ['pipeline/relay.ts', ['chain/chain.ts']],
    ['chain/stage.ts', ['chain/context.ts', 'core/verdict.ts']],
  ]);
  t.deepEqual(layoutViolations(graph), [
    'scan/stream-mask.ts imports chain/context.ts: only chain/, pipeline/, decider/, proxy.ts and index.ts import the chain',
    'core/usage.ts imports providers/adapter.ts: core/ imports nothing outside core/',
  ]);
});
