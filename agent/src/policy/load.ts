import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { compilePolicy, type Policy, type PolicyDocument } from '../../../proxy/src/index.js';
import { PolicyError } from '../errors.js';
import { describeSchemaError, schemaValidator } from '../config/validate.js';

/** Reads, validates and compiles a policy file; every problem names its field. */
export function loadPolicy(file: string): Policy {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(`cannot read policy ${file}: ${(err as Error).message}`, '(file)');
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PolicyError(`policy ${file} is not valid YAML: ${(err as Error).message}`, '(file)');
  }
  const validate = schemaValidator('policy.schema.json');
  if (!validate(doc)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new PolicyError(`invalid policy ${file}: ${field} ${message}`, field);
  }
  const d = doc as PolicyDocument;
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
