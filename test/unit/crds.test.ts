// The CRDs are generated from policies/*.schema.json (one source of truth): the files in
// daemonset/base/crds/ are what the schemas generate today, each is a valid, structural
// CustomResourceDefinition, and a schema keyword with no translation is refused, not dropped.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { crdFiles } from '../../agent/src/kube/crd-files.js';
import { crdManifests } from '../../agent/src/kube/crds.js';
import { CrdSchemaError, structural } from '../../agent/src/kube/crd-schema.js';
import { packageRoot } from '../../agent/src/paths.js';

test('daemonset/base/crds/ holds exactly what policies/*.schema.json generate (npm run docs rewrites it)', (t) => {
  for (const { path, text } of crdFiles()) {
    t.is(readFileSync(join(packageRoot, path), 'utf8'), text, `${path} is stale: run npm run docs`);
  }
  const listed = (parseYaml(readFileSync(join(packageRoot, 'daemonset/base/crds/kustomization.yaml'), 'utf8')) as { resources: string[] }).resources;
  t.deepEqual(listed.sort(), crdManifests().map((c) => c.file).sort());
});

test('every CRD validates as a CustomResourceDefinition, with a status subresource and printer columns', (t) => {
  for (const { object } of crdManifests()) {
    t.notThrows(() => new CustomResourceDefinition(object as never).validate(), object.metadata.name);
    const v = object.spec.versions[0]!;
    t.deepEqual(v.subresources, { status: {} });
    t.true(v.additionalPrinterColumns.some((c) => c.jsonPath === '.status.state'));
  }
  t.deepEqual(crdManifests().map((c) => [c.object.spec.names.kind, c.object.spec.scope]), [
    ['AltracePolicy', 'Cluster'],
    ['AltraceContract', 'Namespaced'],
    ['AltraceKillSwitch', 'Cluster'],
  ]);
});

/** Every node of a structural schema: a type (or an explicit escape), no keyword Kubernetes refuses. */
function structuralProblems(node: Record<string, unknown>, path: string, out: string[]): string[] {
  const escape = node['x-kubernetes-preserve-unknown-fields'] === true || node['x-kubernetes-int-or-string'] === true;
  if (node.type === undefined && !escape) out.push(`${path}: no type`);
  for (const k of ['uniqueItems', 'const', '$schema', '$id', 'propertyNames', 'oneOf', 'anyOf', 'allOf', 'not', '$ref', 'default']) if (k in node) out.push(`${path}: ${k}`);
  if (node.additionalProperties === false) out.push(`${path}: additionalProperties false`);
  if (node.properties && typeof node.additionalProperties === 'object') out.push(`${path}: properties with additionalProperties`);
  if (typeof node.exclusiveMinimum === 'number' || typeof node.exclusiveMaximum === 'number') out.push(`${path}: a numeric exclusive bound`);
  for (const [name, sub] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) structuralProblems(sub, `${path}.${name}`, out);
  if (typeof node.items === 'object') structuralProblems(node.items as Record<string, unknown>, `${path}[]`, out);
  if (typeof node.additionalProperties === 'object') structuralProblems(node.additionalProperties as Record<string, unknown>, `${path}.*`, out);
  return out;
}

test('the generated schemas are structural: a type on every node, nothing the API server refuses', (t) => {
  for (const { object } of crdManifests()) {
    t.deepEqual(structuralProblems(object.spec.versions[0]!.schema.openAPIV3Schema as never, object.spec.names.kind, []), [], object.spec.names.kind);
  }
});

test('the policy schema reaches the CRD field by field: a setting added to policies/policy.schema.json appears in AltracePolicy', (t) => {
  const policy = JSON.parse(readFileSync(join(packageRoot, 'policies/policy.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
  const crd = crdManifests()[0]!.object.spec.versions[0]!.schema.openAPIV3Schema.properties.spec as { properties: Record<string, unknown> };
  t.deepEqual(Object.keys(crd.properties).sort(), Object.keys(policy.properties).sort());
  const contract = JSON.parse(readFileSync(join(packageRoot, 'policies/contract.schema.json'), 'utf8')) as { properties: Record<string, unknown> };
  const ccrd = crdManifests()[1]!.object.spec.versions[0]!.schema.openAPIV3Schema.properties.spec as { properties: Record<string, unknown>; required: string[] };
  t.deepEqual(Object.keys(ccrd.properties).sort(), Object.keys(contract.properties).sort());
  t.deepEqual(ccrd.required, ['contract', 'version', 'applies_to']);
  // The policy's contracts come from AltraceContract resources, not a directory.
  t.false('dir' in ((crd.properties.contracts as { properties: Record<string, unknown> }).properties));
});

test('each translation: const, numeric exclusive bounds, uniqueItems, propertyNames, type unions; an untranslated keyword is refused', (t) => {
  t.deepEqual(structural({ const: 1 }), { enum: [1], type: 'integer' });
  t.deepEqual(structural({ type: 'number', exclusiveMinimum: 0 }), { type: 'number', minimum: 0, exclusiveMinimum: true });
  t.deepEqual(structural({ type: 'array', items: { type: 'string' }, uniqueItems: true }), { type: 'array', items: { type: 'string' }, 'x-kubernetes-list-type': 'set' });
  t.deepEqual(structural({ type: 'object', propertyNames: { minLength: 1, maxLength: 200 }, additionalProperties: { type: 'string' } }), {
    type: 'object',
    additionalProperties: { type: 'string' },
    'x-kubernetes-validations': [{ rule: 'self.all(k, size(k) >= 1 && size(k) <= 200)', message: 'keys must be 1 to 200 characters' }],
  });
  t.deepEqual(structural({ type: ['string', 'integer'] }), { 'x-kubernetes-int-or-string': true });
  t.deepEqual(structural({ type: ['string', 'number', 'boolean'] }), { 'x-kubernetes-preserve-unknown-fields': true });
  t.deepEqual(structural({ type: 'object', additionalProperties: false, properties: { a: { type: 'string', default: 'x' } } }), { type: 'object', properties: { a: { type: 'string' } } });
  const err = t.throws(() => structural({ type: 'object', properties: { a: { oneOf: [{ type: 'string' }] } } }), { instanceOf: CrdSchemaError });
  t.is(err!.path, 'a');
  t.throws(() => structural({ type: 'object', properties: { a: { description: 'no type' } } }), { message: /a: every node of a structural schema needs a type/ });
});
