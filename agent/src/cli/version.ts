import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../paths.js';

const HELP = `altrace version — the installed version

Usage: altrace version [--json]     (also altrace --version, altrace -V)

Prints the version of the altrace package (package.json), alone on its line.
`;

/** The installed package's version: what scripts compare against. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

export async function versionCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const version = packageVersion();
  process.stdout.write(values.json ? JSON.stringify({ version }) + '\n' : version + '\n');
  return 0;
}
