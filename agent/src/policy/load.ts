import { PriceTable, compilePolicy, type Policy, type PolicyDocument, type PriceTableDocument } from '../../../proxy/src/index.js';
import { PolicyError } from '../errors.js';
import { readValidatedYaml } from './yaml-file.js';

/** Reads, validates and compiles a policy file; every problem names its field. */
export function loadPolicy(file: string): Policy {
  const d = readValidatedYaml(file, 'policy.schema.json', 'policy') as PolicyDocument;
  for (const [i, p] of (d.response?.deny_patterns ?? []).entries()) {
    try {
      new RegExp(p.pattern, p.flags ?? '');
    } catch (err) {
      throw new PolicyError(`invalid policy ${file}: response.deny_patterns.${i}.pattern ${(err as Error).message}`, `response.deny_patterns.${i}.pattern`);
    }
  }
  const ids = new Set<string>();
  for (const [i, p] of (d.response?.deny_patterns ?? []).entries()) {
    if (ids.has(p.id)) throw new PolicyError(`invalid policy ${file}: response.deny_patterns.${i}.id "${p.id}" is declared twice`, `response.deny_patterns.${i}.id`);
    ids.add(p.id);
  }
  return compilePolicy(d, file);
}

/** Reads and validates the price table. */
export function loadPrices(file: string): PriceTable {
  return new PriceTable(readValidatedYaml(file, 'prices.schema.json', 'price table') as PriceTableDocument);
}
