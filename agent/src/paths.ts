import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findPackageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('altrace: cannot find the package root');
    dir = up;
  }
  return dir;
}

/** The installed package's root: where policies/ and the published schemas live. */
export const packageRoot = findPackageRoot();
