// AltracePolicy and AltraceContract resources compiled into the fleet policy (docs/kubernetes.md,
// "Policy as resources"), with the same checks as `altrace policy check`, and what each
// resource's status says: accepted, or refused with the field and reason.
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compileContract, ContractError, type ContractDocument } from '../../../proxy/src/index.js';
import { describeSchemaError, schemaValidator } from '../config/validate.js';
import { PolicyError } from '../errors.js';
import { checkBundle, type PolicyBundle } from '../policy/bundle.js';
import { CONTRACTS, POLICIES } from './crds.js';

export interface Resource {
  name: string;
  namespace?: string;
  generation: number;
  created: string;
  spec: unknown;
}

export type ResourceState = 'Accepted' | 'Refused' | 'NotInForce';

export interface ResourceStatus {
  state: ResourceState;
  observedGeneration: number;
  reason?: string;
  field?: string;
  message: string;
  digest?: string;
}

export interface CompiledResources {
  /** The bundle to enforce; null while nothing in the cluster says what to enforce, or the policy in force is refused. */
  bundle: PolicyBundle | null;
  digest: string | null;
  /** By `name` for policies and `namespace/name` for contracts. */
  policies: Map<string, ResourceStatus>;
  contracts: Map<string, ResourceStatus>;
}

export function resourceRef(r: Pick<Resource, 'name' | 'namespace'>): string {
  return r.namespace ? `${r.namespace}/${r.name}` : r.name;
}

function byAge(a: Resource, b: Resource): number {
  return a.created.localeCompare(b.created) || resourceRef(a).localeCompare(resourceRef(b));
}

function refused(r: Resource, field: string, message: string): ResourceStatus {
  return { state: 'Refused', observedGeneration: r.generation, reason: 'ALT_POLICY_INVALID', field, message };
}

/** Checks a document against its published schema (on a copy: the validator fills in defaults). */
function schemaProblem(schema: string, spec: unknown): { field: string; message: string } | null {
  const validate = schemaValidator(schema);
  if (validate(structuredClone(spec))) return null;
  const { field, message } = describeSchemaError(validate.errors);
  const at = field === '(root)' ? 'spec' : `spec.${field}`;
  return { field: at, message: `${at} ${message}` };
}

/** The contract file a resource becomes in the bundle: a name the bundle accepts, unique per resource. */
function contractFile(r: Resource): string {
  const base = `${r.namespace}.${r.name}`;
  return `${base.length > 115 ? base.slice(0, 115) : base}.yaml`;
}

/**
 * The fleet policy from the cluster's resources. The AltracePolicy named `policyName` is the
 * policy (others are not in force); without one, `fallback` (the control plane's own policy
 * file). Each AltraceContract is checked on its own (schema, compile, a name no older resource
 * took); a bundle that still fails names the contract file at fault, which is refused and the
 * bundle tried again without it. A refused policy enforces nothing new: the last good policy stays.
 */
export function compileResources(policyName: string, policies: Resource[], contracts: Resource[], fallback: () => PolicyBundle): CompiledResources {
  const out: CompiledResources = { bundle: null, digest: null, policies: new Map(), contracts: new Map() };
  let policyDoc: Record<string, unknown> | null = null;
  let inForce: Resource | null = null;
  for (const p of policies) {
    if (p.name !== policyName) {
      out.policies.set(p.name, { state: 'NotInForce', observedGeneration: p.generation, message: `the fleet enforces the ${POLICIES.kind} named ${policyName} (the control plane's kubernetes.policy_name)` });
      continue;
    }
    inForce = p;
    const problem = schemaProblem('policy.schema.json', p.spec);
    if (problem) out.policies.set(p.name, refused(p, problem.field, problem.message));
    else policyDoc = structuredClone(p.spec) as Record<string, unknown>;
  }
  const accepted: { r: Resource; file: string }[] = [];
  const names = new Map<string, string>();
  for (const c of [...contracts].sort(byAge)) {
    const ref = resourceRef(c);
    const problem = schemaProblem('contract.schema.json', c.spec);
    if (problem) {
      out.contracts.set(ref, refused(c, problem.field, problem.message));
      continue;
    }
    const doc = c.spec as ContractDocument;
    try {
      compileContract(structuredClone(doc), `${CONTRACTS.kind} ${ref}`);
    } catch (err) {
      if (!(err instanceof ContractError)) throw err;
      out.contracts.set(ref, refused(c, `spec.${err.field}`, err.message));
      continue;
    }
    const holder = names.get(doc.contract);
    if (holder) {
      out.contracts.set(ref, refused(c, 'spec.contract', `contract ${doc.contract} is already defined by ${CONTRACTS.kind} ${holder}`));
      continue;
    }
    names.set(doc.contract, ref);
    accepted.push({ r: c, file: contractFile(c) });
  }
  const waiting = (why: string) => {
    for (const { r } of accepted) out.contracts.set(resourceRef(r), { state: 'Accepted', observedGeneration: r.generation, message: `valid; not enforced yet: ${why}` });
    return out;
  };
  // A refused policy enforces nothing new: the fleet keeps its last good policy.
  if (inForce && !policyDoc) return waiting(`${POLICIES.kind} ${inForce.name} is refused and the fleet keeps its last good policy`);
  const base = policyDoc ? null : fallback();
  const doc = policyDoc ?? ((parseYaml(base!.policy) ?? {}) as Record<string, unknown>);
  for (;;) {
    const bundle = bundleOf(doc, base, accepted);
    try {
      const compiled = checkBundle(bundle);
      out.bundle = bundle;
      out.digest = compiled.digest;
      break;
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      const culprit = accepted.find((a) => err.message.includes(`contracts/${a.file}`));
      const message = err.message.replace(/\S*\/policy-[^/\s]+\//g, '');
      if (culprit) {
        out.contracts.set(resourceRef(culprit.r), refused(culprit.r, `spec.${err.field}`, message));
        accepted.splice(accepted.indexOf(culprit), 1);
        continue;
      }
      if (inForce) out.policies.set(inForce.name, refused(inForce, `spec.${err.field}`, message));
      return waiting(`the policy is refused (${message}) and the fleet keeps its last good policy`);
    }
  }
  if (inForce) out.policies.set(inForce.name, { state: 'Accepted', observedGeneration: inForce.generation, message: `enforced on every node with ${accepted.length} contract(s)`, digest: out.digest! });
  for (const { r } of accepted) out.contracts.set(resourceRef(r), { state: 'Accepted', observedGeneration: r.generation, message: `enforced on every node in policy ${out.digest}` });
  return out;
}

/** The policy document with the accepted contracts as its contracts directory (the fallback's own contracts kept). */
function bundleOf(doc: Record<string, unknown>, base: PolicyBundle | null, accepted: { r: Resource; file: string }[]): PolicyBundle {
  const contracts = [...(base?.contracts ?? []), ...accepted.map((a) => ({ name: a.file, text: stringifyYaml(a.r.spec) }))];
  const policy = structuredClone(doc);
  if (contracts.length > 0) policy.contracts = { ...((policy.contracts as object | undefined) ?? {}), dir: 'contracts' };
  return { policy: stringifyYaml(policy), contracts };
}
