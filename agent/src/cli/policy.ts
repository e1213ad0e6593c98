import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { loadPolicy } from '../policy/load.js';

const HELP = `altrace policy — policy files

Usage: altrace policy check FILE [--json]

Validates FILE against policies/policy.schema.json and compiles its patterns.
Exit 0 when valid, 1 when not (the message names the offending field).
`;

export async function policyCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [sub, file] = positionals;
  if (sub !== 'check') throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (check)');
  if (!file) throw new UsageError('check needs a FILE');
  try {
    const p = loadPolicy(file);
    process.stdout.write(values.json ? JSON.stringify({ valid: true, file, digest: p.digest }) + '\n' : `${file}: valid (digest ${p.digest})\n`);
    return 0;
  } catch (err) {
    const e = err as Error & { field?: string };
    process.stdout.write(values.json ? JSON.stringify({ valid: false, file, field: e.field, message: e.message }) + '\n' : `${e.message}\n`);
    return 1;
  }
}
