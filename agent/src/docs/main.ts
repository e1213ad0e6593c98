// `npm run docs`: rewrites the generated sections of docs/reference.md from the code.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../paths.js';
import { renderReference } from './render.js';

const file = join(packageRoot, 'docs/reference.md');
const before = readFileSync(file, 'utf8');
const after = await renderReference(before);
if (after === before) process.stdout.write('docs/reference.md is up to date\n');
else {
  writeFileSync(file, after);
  process.stdout.write('docs/reference.md: generated sections rewritten\n');
}
