import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT } from './process.js';

/**
 * The shipped policy, parsed, ready to be changed and written elsewhere: its relative
 * contracts directory is made absolute so the copy still finds the shipped contracts.
 */
export function shippedPolicy(): Record<string, any> {
  const policy = parseYaml(readFileSync(join(ROOT, 'policies/default.yaml'), 'utf8')) as Record<string, any>;
  if (policy.contracts?.dir) policy.contracts.dir = join(ROOT, 'policies', policy.contracts.dir as string);
  return policy;
}
