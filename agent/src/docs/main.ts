// `npm run docs`: rewrites the generated sections of docs/reference.md and the CRDs of
// daemonset/base/crds/ from the code and policies/*.schema.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crdFiles } from '../kube/crd-files.js';
import { packageRoot } from '../paths.js';
import { renderReference } from './render.js';

function rewrite(file: string, after: string): void {
  let before: string | null = null;
  try {
    before = readFileSync(file, 'utf8');
  } catch {
    // a new file
  }
  if (after === before) process.stdout.write(`${file} is up to date\n`);
  else {
    writeFileSync(file, after);
    process.stdout.write(`${file}: rewritten\n`);
  }
}

const reference = join(packageRoot, 'docs/reference.md');
rewrite(reference, await renderReference(readFileSync(reference, 'utf8')));
mkdirSync(join(packageRoot, 'daemonset/base/crds'), { recursive: true });
for (const { path, text } of crdFiles()) rewrite(join(packageRoot, path), text);
