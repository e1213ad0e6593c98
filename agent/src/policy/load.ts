import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  ContractError,
  ContractSet,
  PriceTable,
  compileContract,
  compilePolicy,
  parseEgress,
  registryProblem,
  type Contract,
  type ContractDocument,
  type Policy,
  type PolicyDocument,
  type PriceTableDocument,
} from '../../../proxy/src/index.js';
import { ConfigError, PolicyError } from '../errors.js';
import { mcpServerPolicy } from '../kube/cilium-policies.js';
import { checkNet } from '../bpf/validate.js';
import { readValidatedYaml } from './yaml-file.js';

/** The contracts directory a policy names, resolved against the policy file; null when it names none. */
function contractsDirOf(policyFile: string, doc: PolicyDocument): string | null {
  return doc.contracts?.dir ? resolve(dirname(policyFile), doc.contracts.dir) : null;
}

/** The contracts directory of a policy file that has already loaded once. */
export function policyContractsDir(policyFile: string): string | null {
  return contractsDirOf(policyFile, readValidatedYaml(policyFile, 'policy.schema.json', 'policy') as PolicyDocument);
}

/** Reads, validates and compiles one contract file; every problem names the file and its field. */
export function loadContract(file: string): Contract {
  const doc = readValidatedYaml(file, 'contract.schema.json', 'contract') as ContractDocument;
  try {
    return compileContract(doc, file);
  } catch (err) {
    if (err instanceof ContractError) throw new PolicyError(`invalid contract ${file}: ${err.message}`, err.field);
    throw err;
  }
}

/** Every *.yaml / *.yml contract in `dir`, in name order; a directory that cannot be read is an error (fail closed). */
export function loadContracts(dir: string, require: boolean): ContractSet {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.')).sort();
  } catch (err) {
    throw new PolicyError(`cannot read contracts directory ${dir}: ${(err as Error).message}`, 'contracts.dir');
  }
  const contracts = names.map((n) => loadContract(join(dir, n)));
  try {
    return new ContractSet(contracts, require);
  } catch (err) {
    if (err instanceof ContractError) throw new PolicyError(`invalid contracts in ${dir}: ${err.message}`, err.field);
    throw err;
  }
}

/** A classifier's files, resolved against the policy file and checked readable; the model's size and time become its version. */
function resolveClassifiers(file: string, d: PolicyDocument): void {
  const ids = new Set<string>();
  for (const [i, c] of (d.content?.classifiers ?? []).entries()) {
    if (ids.has(c.id)) throw new PolicyError(`invalid policy ${file}: content.classifiers.${i}.id "${c.id}" is declared twice`, `content.classifiers.${i}.id`);
    ids.add(c.id);
    const at = (field: string, path: string) => {
      const full = resolve(dirname(file), path);
      try {
        const s = statSync(full);
        if (!s.isFile()) throw new Error('not a file');
        return { full, version: `${s.size}:${s.mtimeMs}` };
      } catch (err) {
        throw new PolicyError(`invalid policy ${file}: content.classifiers.${i}.${field} ${full}: ${(err as Error).message}`, `content.classifiers.${i}.${field}`);
      }
    };
    const model = at('model', c.model);
    c.model = model.full;
    c.version = model.version;
    if (c.tokenizer) c.tokenizer.vocab = at('tokenizer.vocab', c.tokenizer.vocab).full;
  }
}

/** An egress net the kernel's trie would refuse (prefix length, host bits beyond it), named at its field. */
function egressNetProblem(d: PolicyDocument): { field: string; message: string } | null {
  for (const [name, server] of Object.entries(d.mcp?.servers ?? {})) {
    const parsed = parseEgress(server.egress ?? []);
    if (!('entries' in parsed)) continue;
    for (const [i, entry] of parsed.entries.entries()) {
      if (entry.kind !== 'net') continue;
      try {
        checkNet('egress', entry.net);
      } catch (err) {
        return { field: `mcp.servers.${name}.egress.${i}`, message: (err as Error).message };
      }
    }
  }
  return null;
}

/**
 * A server whose pods the control plane would hold to its egress with a CiliumNetworkPolicy that
 * Cilium refuses or that would open a way around the proxy (an AI provider listed): named at its field.
 */
function podsProblem(d: PolicyDocument): { field: string; message: string } | null {
  for (const [name, server] of Object.entries(d.mcp?.servers ?? {})) {
    if (!server.pods || !server.egress) continue;
    const parsed = parseEgress(server.egress);
    if (!('entries' in parsed)) continue;
    try {
      mcpServerPolicy(name, server.pods, parsed.entries, { nets: [], proxyPorts: [8080], dnsLabels: { 'k8s:k8s-app': 'kube-dns' }, owner: null });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const entry = /^allow\[(\d+)\]/.exec(err.field);
      const field = entry ? `egress.${entry[1]}` : err.field.startsWith('podSelector') ? 'pods.labels' : err.field === 'namespace' ? 'pods.namespace' : err.field === 'name' ? '' : 'pods';
      return { field: `mcp.servers.${name}${field ? `.${field}` : ''}`, message: err.message.replace(/^allow\[\d+\]\.\w+ /, '').replace(/^podSelector/, 'labels') };
    }
  }
  return null;
}

/** Reads, validates and compiles a policy file and its contracts; every problem names its field. */
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
  const registry = registryProblem(d.mcp) ?? egressNetProblem(d) ?? podsProblem(d);
  if (registry) throw new PolicyError(`invalid policy ${file}: ${registry.field} ${registry.message}`, registry.field);
  resolveClassifiers(file, d);
  const declared = new Set((d.content?.classifiers ?? []).map((c) => c.id));
  for (const [i, id] of (d.mcp?.description_classifiers ?? []).entries()) {
    if (!declared.has(id)) throw new PolicyError(`invalid policy ${file}: mcp.description_classifiers.${i} "${id}" is not a classifier declared in content.classifiers`, `mcp.description_classifiers.${i}`);
  }
  const dir = contractsDirOf(file, d);
  const contracts = dir ? loadContracts(dir, d.contracts?.require ?? false) : undefined;
  if (!dir && d.contracts?.require) throw new PolicyError(`invalid policy ${file}: contracts.require needs contracts.dir`, 'contracts.require');
  return compilePolicy(d, file, contracts);
}

/** Reads and validates the price table. */
export function loadPrices(file: string): PriceTable {
  return new PriceTable(readValidatedYaml(file, 'prices.schema.json', 'price table') as PriceTableDocument);
}
