import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { describeSchemaError, schemaValidator } from '../config/validate.js';
import { PolicyError } from '../errors.js';

/** Reads a YAML policy-family file and validates it against its published schema; errors name the field. */
export function readValidatedYaml(file: string, schema: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError(`cannot read ${what} ${file}: ${(err as Error).message}`, '(file)');
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new PolicyError(`${what} ${file} is not valid YAML: ${(err as Error).message}`, '(file)');
  }
  const validate = schemaValidator(schema);
  if (!validate(doc)) {
    const { field, message } = describeSchemaError(validate.errors);
    throw new PolicyError(`invalid ${what} ${file}: ${field} ${message}`, field);
  }
  return doc;
}
