import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { packageRoot } from '../paths.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

const compiled = new Map<string, ValidateFunction>();

/** Compiles a schema published in policies/ once; defaults are filled in while validating. */
export function schemaValidator(file: string): ValidateFunction {
  let v = compiled.get(file);
  if (!v) {
    const ajv = new Ajv2020({ allErrors: false, useDefaults: true, strict: false });
    addFormats(ajv);
    v = ajv.compile(JSON.parse(readFileSync(join(packageRoot, 'policies', file), 'utf8')));
    compiled.set(file, v);
  }
  return v;
}

/** The first schema error as "path: message", the path in the document's own terms. */
export function describeSchemaError(errors: ErrorObject[] | null | undefined): { field: string; message: string } {
  const e = errors?.[0];
  if (!e) return { field: '(root)', message: 'invalid' };
  let field = e.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)';
  let message = e.message ?? 'invalid';
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperty: string }).additionalProperty;
    field = field === '(root)' ? extra : `${field}.${extra}`;
    message = 'is not a known setting';
  } else if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    field = field === '(root)' ? missing : `${field}.${missing}`;
    message = 'is required';
  } else if (e.keyword === 'enum') {
    message = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`;
  }
  return { field, message };
}
