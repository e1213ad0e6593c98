// The CRDs' openAPIV3Schema, generated from policies/*.schema.json (one source of truth): JSON
// Schema 2020-12 narrowed to what Kubernetes accepts in a structural schema. What the API server
// cannot express is left to the control plane, which compiles every resource with the full
// schema and writes the refusal into its status (docs/kubernetes.md, "Policy as resources").

/** A JSON Schema node, as policies/*.schema.json write them. */
export type JsonSchema = Record<string, unknown>;

/** Keywords a structural schema keeps as they are. */
const KEPT = new Set(['description', 'type', 'required', 'enum', 'minimum', 'maximum', 'minLength', 'maxLength', 'minItems', 'maxItems', 'pattern', 'minProperties', 'maxProperties']);

/** Keywords with no structural equivalent (the control plane's full check applies them). */
const DROPPED = new Set(['$schema', '$id', 'title', 'default', 'examples', '$comment']);

export class CrdSchemaError extends Error {
  constructor(
    message: string,
    readonly path: string,
  ) {
    super(`${path || '(root)'}: ${message}`);
  }
}

function typeOfEnum(values: unknown[]): string | undefined {
  const types = new Set(values.map((v) => (Number.isInteger(v) ? 'integer' : typeof v)));
  if (types.size !== 1) return undefined;
  const [t] = types;
  return t === 'integer' || t === 'number' || t === 'string' || t === 'boolean' ? t : undefined;
}

/**
 * One JSON Schema node as a structural schema node:
 * - `const` becomes a one-value `enum`; a node without `type` takes it from its enum;
 * - a numeric `exclusiveMinimum`/`exclusiveMaximum` becomes the OpenAPI 3.0 boolean form;
 * - `additionalProperties: false` goes (the API server prunes unknown fields instead);
 * - `uniqueItems` on scalars becomes `x-kubernetes-list-type: set` (the API server refuses uniqueItems);
 * - `propertyNames` length limits become a CEL rule over the keys;
 * - a union of types is `x-kubernetes-int-or-string` for integer|string, and otherwise any
 *   value (`x-kubernetes-preserve-unknown-fields`), checked by the control plane.
 */
export function structural(node: JsonSchema, path = ''): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (KEPT.has(k)) out[k] = structuredClone(v);
    else if (!DROPPED.has(k) && !['const', 'properties', 'items', 'additionalProperties', 'uniqueItems', 'exclusiveMinimum', 'exclusiveMaximum', 'propertyNames'].includes(k)) {
      throw new CrdSchemaError(`the keyword ${k} has no structural equivalent: add its translation to agent/src/kube/crd-schema.ts`, path);
    }
  }
  if ('const' in node) out.enum = [node.const];
  if (Array.isArray(node.type)) {
    const types = [...(node.type as string[])].sort();
    delete out.type;
    if (types.join('|') === 'integer|string') out['x-kubernetes-int-or-string'] = true;
    else out['x-kubernetes-preserve-unknown-fields'] = true;
  } else if (out.type === undefined && Array.isArray(out.enum)) {
    const t = typeOfEnum(out.enum);
    if (!t) throw new CrdSchemaError('an enum of mixed types needs an explicit type', path);
    out.type = t;
  }
  for (const [k, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    const v = node[k];
    if (typeof v === 'number') {
      out[bound] = v;
      out[k] = true;
    } else if (v !== undefined) throw new CrdSchemaError(`${k} must be a number`, path);
  }
  if (node.properties !== undefined) {
    const props: Record<string, JsonSchema> = {};
    for (const [name, sub] of Object.entries(node.properties as Record<string, JsonSchema>)) props[name] = structural(sub, path ? `${path}.${name}` : name);
    out.properties = props;
  }
  const additional = node.additionalProperties;
  if (typeof additional === 'object' && additional !== null) {
    if (node.properties !== undefined) throw new CrdSchemaError('properties and a schema for additionalProperties cannot be combined in a structural schema', path);
    out.additionalProperties = structural(additional as JsonSchema, `${path}.*`);
  }
  if (node.items !== undefined) {
    const items = structural(node.items as JsonSchema, `${path}[]`);
    out.items = items;
    if (node.uniqueItems === true) {
      if (!['string', 'integer', 'number', 'boolean'].includes(items.type as string)) throw new CrdSchemaError('uniqueItems is only translated for lists of scalars', path);
      out['x-kubernetes-list-type'] = 'set';
    }
  }
  const names = node.propertyNames as JsonSchema | undefined;
  if (names) {
    const rules: string[] = [];
    if (typeof names.minLength === 'number') rules.push(`size(k) >= ${names.minLength}`);
    if (typeof names.maxLength === 'number') rules.push(`size(k) <= ${names.maxLength}`);
    const other = Object.keys(names).filter((k) => k !== 'minLength' && k !== 'maxLength');
    if (other.length) throw new CrdSchemaError(`propertyNames ${other.join(', ')} is not translated`, path);
    if (rules.length) out['x-kubernetes-validations'] = [{ rule: `self.all(k, ${rules.join(' && ')})`, message: `keys must be ${names.minLength ?? 0} to ${names.maxLength ?? 'any number of'} characters` }];
  }
  if (out.type === undefined && out['x-kubernetes-preserve-unknown-fields'] === undefined && out['x-kubernetes-int-or-string'] === undefined) {
    throw new CrdSchemaError('every node of a structural schema needs a type', path);
  }
  return out;
}
