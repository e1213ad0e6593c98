// The services take an Operator and authorize by it themselves, so a control-plane replica or
// a node follower can call them without the HTTP layer or the CLI (DESIGN.md §8). This fails
// when anything under agent/src/services/ reaches agent/src/control/ or agent/src/cli/, directly
// or through another agent module, type-only imports included.
import test from 'ava';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { packageRoot } from '../../agent/src/paths.js';

const AGENT_SRC = join(packageRoot, 'agent', 'src');
const SERVICES = join(AGENT_SRC, 'services');
const FORBIDDEN = ['control', 'cli'].map((d) => join(AGENT_SRC, d) + '/');

/** Relative module specifiers of a source file: static imports, re-exports and dynamic import(). */
function relativeSpecifiers(source: string): string[] {
  const found = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return [...new Set(found)];
}

/** The .ts file a relative `.js` specifier names. */
function sourceOf(fromFile: string, specifier: string): string {
  return resolve(dirname(fromFile), specifier.replace(/\.js$/, '.ts'));
}

/** Every agent module reachable from `start`, each with the import chain that reached it. */
function reachable(start: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>(start.map((f) => [f, [f]]));
  const queue = [...start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const spec of relativeSpecifiers(readFileSync(file, 'utf8'))) {
      const target = sourceOf(file, spec);
      if (!target.startsWith(AGENT_SRC + '/') || seen.has(target) || !existsSync(target)) continue;
      seen.set(target, [...seen.get(file)!, target]);
      queue.push(target);
    }
  }
  return seen;
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
    "import { e } from 'node:fs';",
  ].join('\n');
  t.deepEqual(relativeSpecifiers(source), ['../control/router.js', './b.js', '../cli/c.js', '../cli/d.js']);
});

test('nothing in agent/src/services imports agent/src/control or agent/src/cli, directly or through another module', (t) => {
  const services = tsFiles(SERVICES);
  t.true(services.length >= 8, `expected the services in ${SERVICES}`);
  const offending = [...reachable(services).entries()]
    .filter(([file]) => FORBIDDEN.some((dir) => file.startsWith(dir)))
    .map(([, chain]) => chain.map((f) => relative(packageRoot, f)).join(' → '));
  t.deepEqual(offending, []);
});
