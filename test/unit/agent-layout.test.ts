// Boundaries of the agent's layout, checked on the sources (type-only imports count):
// - the services take an Operator and authorize by it themselves, so a control-plane replica or a
//   node follower can call them without the HTTP layer or the CLI (DESIGN.md §8);
// - what the shipped `altrace` runs never loads a module from test/ (the image has no test/).
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../agent/src/paths.js';

const AGENT_SRC = join(packageRoot, 'agent', 'src');
const SERVICES = join(AGENT_SRC, 'services');
const FORBIDDEN = ['control', 'cli'].map((d) => join(AGENT_SRC, d) + '/');
const SHIPPED = [AGENT_SRC, join(packageRoot, 'proxy', 'src')];
const TESTS = join(packageRoot, 'test') + '/';

/** Relative module specifiers of a source file: static imports, re-exports, import() and worker URLs. */
function relativeSpecifiers(source: string): string[] {
  const found = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*|\bnew URL\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return [...new Set(found)];
}

/** The .ts file a relative `.js` specifier names. */
function sourceOf(fromFile: string, specifier: string): string {
  return resolve(dirname(fromFile), specifier.replace(/\.js$/, '.ts'));
}

/** Every module reachable from `start`, each with the import chain that reached it; only files under `within` are read in turn. */
function reachable(start: string[], within: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>(start.map((f) => [f, [f]]));
  const queue = [...start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const spec of relativeSpecifiers(readFileSync(file, 'utf8'))) {
      const target = sourceOf(file, spec);
      if (seen.has(target)) continue;
      seen.set(target, [...seen.get(file)!, target]);
      if (within.some((dir) => target.startsWith(dir + '/')) && existsSync(target)) queue.push(target);
    }
  }
  return seen;
}

/** The import chains, relative to the package, of the reachable files under one of `dirs`. */
function chainsInto(graph: Map<string, string[]>, dirs: string[]): string[] {
  return [...graph.entries()]
    .filter(([file]) => dirs.some((dir) => file.startsWith(dir)))
    .map(([, chain]) => chain.map((f) => relative(packageRoot, f)).join(' → '));
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => join(dir, f));
}

test('relativeSpecifiers finds static, type-only, re-exported and dynamic imports', (t) => {
  const source = [
    "import { a } from '../control/router.js';",
    "import type { B } from './b.js';",
    "export { c } from '../cli/c.js';",
    "const d = await import('../cli/d.js');",
    "new Worker(new URL('./worker.js', import.meta.url));",
    "import { e } from 'node:fs';",
  ].join('\n');
  t.deepEqual(relativeSpecifiers(source), ['../control/router.js', './b.js', '../cli/c.js', '../cli/d.js', './worker.js']);
});

test('nothing in agent/src/services imports agent/src/control or agent/src/cli, directly or through another module', (t) => {
  const services = tsFiles(SERVICES);
  t.true(services.length >= 8, `expected the services in ${SERVICES}`);
  t.deepEqual(chainsInto(reachable(services, [AGENT_SRC]), FORBIDDEN), []);
});

test('nothing the shipped altrace runs (every command, the docs generator) loads a module from test/', (t) => {
  const entries = [join(AGENT_SRC, 'cli', 'main.ts'), join(AGENT_SRC, 'docs', 'main.ts')];
  const graph = reachable(entries, SHIPPED);
  t.true(graph.has(join(AGENT_SRC, 'sim', 'server.ts')), 'the walk reaches the simulator altrace sim and altrace demo run');
  t.deepEqual(chainsInto(graph, [TESTS]), []);
});
