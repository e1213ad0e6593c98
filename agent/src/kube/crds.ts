// The CustomResourceDefinitions of group altrace.io (SPEC.md, "The fleet and Kubernetes"), built
// from policies/*.schema.json; `npm run docs` writes them to daemonset/base/crds/ and a test holds
// the files equal to what this builds.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify as stringifyYaml } from 'yaml';
import { packageRoot } from '../paths.js';
import { structural, type JsonSchema } from './crd-schema.js';

export const GROUP = 'altrace.io';
export const VERSION = 'v1alpha1';

export interface CrdResource {
  plural: string;
  singular: string;
  kind: string;
  scope: 'Cluster' | 'Namespaced';
  shortNames: string[];
}

export const POLICIES: CrdResource = { plural: 'altracepolicies', singular: 'altracepolicy', kind: 'AltracePolicy', scope: 'Cluster', shortNames: ['altpolicy'] };
export const CONTRACTS: CrdResource = { plural: 'altracecontracts', singular: 'altracecontract', kind: 'AltraceContract', scope: 'Namespaced', shortNames: ['altcontract'] };
export const KILL_SWITCHES: CrdResource = { plural: 'altracekillswitches', singular: 'altracekillswitch', kind: 'AltraceKillSwitch', scope: 'Cluster', shortNames: ['altkill'] };

function schemaFile(name: string): JsonSchema {
  return JSON.parse(readFileSync(join(packageRoot, 'policies', name), 'utf8')) as JsonSchema;
}

/** The policy's schema without `contracts.dir`: in a cluster the contracts are AltraceContract resources. */
function policySpec(): JsonSchema {
  const s = schemaFile('policy.schema.json');
  const contracts = (s.properties as Record<string, JsonSchema>).contracts!;
  delete (contracts.properties as Record<string, JsonSchema>).dir;
  contracts.description = 'Behavioral contracts: in a cluster, the AltraceContract resources; require refuses agents no contract covers';
  return s;
}

const KILL_SPEC: JsonSchema = {
  type: 'object',
  required: ['scope'],
  properties: {
    scope: { enum: ['global', 'team', 'agent'], description: 'What the switch stops: every agent, a team, or one agent' },
    target: { type: 'string', minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$', description: 'The team or agent name; omitted for global' },
    reason: { type: 'string', maxLength: 500, description: 'Recorded with the switch and in the audit log' },
  },
};

const CONDITION = {
  type: 'object',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: { type: 'string', maxLength: 316 },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
    observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
    lastTransitionTime: { type: 'string', format: 'date-time' },
    reason: { type: 'string', maxLength: 1024, minLength: 1, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
    message: { type: 'string', maxLength: 32768 },
  },
};

/** What the control plane writes back: the outcome, and for a refusal the field and reason (docs/kubernetes.md). */
function statusSchema(states: string[], extra: Record<string, unknown> = {}): JsonSchema {
  return {
    type: 'object',
    properties: {
      state: { type: 'string', enum: states },
      observedGeneration: { type: 'integer', format: 'int64' },
      reason: { type: 'string', description: 'The stable ALT_ code of a refusal' },
      field: { type: 'string', description: 'The field at fault, as a path from the resource (spec.tools.x)' },
      message: { type: 'string' },
      ...extra,
      conditions: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'], items: CONDITION },
    },
  };
}

function crd(r: CrdResource, spec: JsonSchema, status: JsonSchema, description: string, columns: { name: string; type: string; jsonPath: string; priority?: number }[], validations: unknown[] = []) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${r.plural}.${GROUP}`, labels: { 'app.kubernetes.io/name': 'altrace', 'app.kubernetes.io/component': 'crd' } },
    spec: {
      group: GROUP,
      scope: r.scope,
      names: { plural: r.plural, singular: r.singular, kind: r.kind, listKind: `${r.kind}List`, shortNames: r.shortNames, categories: ['altrace'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [...columns, { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' }],
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description,
              required: ['spec'],
              properties: {
                apiVersion: { type: 'string' },
                kind: { type: 'string' },
                metadata: { type: 'object' },
                spec: { ...structural(spec, 'spec'), ...(validations.length ? { 'x-kubernetes-validations': validations } : {}) },
                status,
              },
            },
          },
        },
      ],
    },
  };
}

const STATE_COLUMNS = [
  { name: 'State', type: 'string', jsonPath: '.status.state' },
  { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
  { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
];

/** Every CRD, with the file name it is written to under daemonset/base/crds/. */
export function crdManifests(): { file: string; object: ReturnType<typeof crd> }[] {
  return [
    {
      file: `${GROUP}_${POLICIES.plural}.yaml`,
      object: crd(POLICIES, policySpec(), statusSchema(['Accepted', 'Refused', 'NotInForce'], { digest: { type: 'string' } }), 'The fleet policy (policies/policy.schema.json). The one named by the control plane\'s kubernetes.policy_name is enforced on every node.', [...STATE_COLUMNS, { name: 'Digest', type: 'string', jsonPath: '.status.digest', priority: 1 }]),
    },
    {
      file: `${GROUP}_${CONTRACTS.plural}.yaml`,
      object: crd(CONTRACTS, schemaFile('contract.schema.json'), statusSchema(['Accepted', 'Refused']), 'A behavioral contract (policies/contract.schema.json), enforced on every node with the fleet policy.', [{ name: 'Contract', type: 'string', jsonPath: '.spec.contract' }, { name: 'Version', type: 'integer', jsonPath: '.spec.version' }, ...STATE_COLUMNS]),
    },
    {
      file: `${GROUP}_${KILL_SWITCHES.plural}.yaml`,
      object: crd(
        KILL_SWITCHES,
        KILL_SPEC,
        statusSchema(['Engaged', 'Refused'], { engagedAt: { type: 'string', format: 'date-time' }, engagedBy: { type: 'string' } }),
        'A kill switch as a manifest: engaged while the resource exists, released when it is deleted.',
        [{ name: 'Scope', type: 'string', jsonPath: '.spec.scope' }, { name: 'Target', type: 'string', jsonPath: '.spec.target' }, ...STATE_COLUMNS],
        [{ rule: "self.scope == 'global' ? !has(self.target) : has(self.target)", message: 'target names the team or agent; the global switch has none' }],
      ),
    },
  ];
}

/** The YAML of one CRD file, as written to disk. */
export function crdYaml(object: unknown): string {
  return `# Generated from policies/*.schema.json by \`npm run docs\` (agent/src/kube/crds.ts): do not edit.\n${stringifyYaml(object, { lineWidth: 0 })}`;
}
