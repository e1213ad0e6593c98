// A policy with its contracts as one value (docs/fleet.md, "Policy through the stream"): what
// `altrace policy push` sends to the control plane and every node loads. Loaded through the same
// files and checks as a policy on disk: the bundle is written into a directory of its own (its
// contracts under `contracts/`) and read back with loadPolicy, so a bundle is valid exactly when
// the same files would be.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { compileMcpRegistry, type McpRegistry, type Policy, type PolicyDocument } from '../../../proxy/src/index.js';
import { PolicyError } from '../errors.js';
import { loadPolicy, policyContractsDir } from './load.js';

export interface PolicyBundle {
  /** The policy file's YAML text. */
  policy: string;
  /** The contract files of its contracts directory, by file name. */
  contracts: { name: string; text: string }[];
}

const CONTRACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.ya?ml$/;
const MAX_CONTRACTS = 500;

/** The policy file and the contracts its directory holds, as a bundle. */
export function readBundle(policyFile: string): PolicyBundle {
  const policy = readFileSync(policyFile, 'utf8');
  const dir = policyContractsDir(policyFile);
  const names = dir ? readdirSync(dir).filter((n) => /\.ya?ml$/.test(n) && !n.startsWith('.') && statSync(join(dir, n)).isFile()).sort() : [];
  return { policy, contracts: names.map((name) => ({ name, text: readFileSync(join(dir!, name), 'utf8') })) };
}

/** A bundle from a JSON body: its shape checked, every refusal naming the field. */
export function parseBundle(body: unknown): PolicyBundle {
  const b = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : null) as Record<string, unknown> | null;
  if (!b) throw new PolicyError('the body must be a JSON object: {"policy": "<yaml>", "contracts": [{"name", "text"}]}', '(body)');
  for (const k of Object.keys(b)) if (k !== 'policy' && k !== 'contracts') throw new PolicyError(`${k} is not a known field (policy, contracts)`, k);
  if (typeof b.policy !== 'string' || b.policy.length === 0) throw new PolicyError('policy is required: the policy file as YAML text', 'policy');
  const contracts = b.contracts ?? [];
  if (!Array.isArray(contracts) || contracts.length > MAX_CONTRACTS) throw new PolicyError(`contracts must be an array of at most ${MAX_CONTRACTS} {name, text}`, 'contracts');
  const seen = new Set<string>();
  for (const [i, c] of contracts.entries()) {
    const x = c as { name?: unknown; text?: unknown };
    if (typeof x.name !== 'string' || !CONTRACT_NAME.test(x.name)) throw new PolicyError(`contracts.${i}.name must be a file name ending in .yaml or .yml`, `contracts.${i}.name`);
    if (seen.has(x.name)) throw new PolicyError(`contracts.${i}.name ${x.name} is given twice`, `contracts.${i}.name`);
    seen.add(x.name);
    if (typeof x.text !== 'string') throw new PolicyError(`contracts.${i}.text must be the contract's YAML text`, `contracts.${i}.text`);
  }
  return { policy: b.policy, contracts: contracts as PolicyBundle['contracts'] };
}

/**
 * Compiles a bundle in `parent` (a directory of its own under it, kept: the policy's source
 * names it); throws PolicyError naming the file and field at fault, and leaves nothing then.
 */
export function loadBundle(bundle: PolicyBundle, parent: string, source: string): Policy {
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  const dir = mkdtempSync(join(parent, 'policy-'));
  try {
    let doc: Record<string, unknown>;
    try {
      doc = (parseYaml(bundle.policy) ?? {}) as Record<string, unknown>;
    } catch (err) {
      throw new PolicyError(`the pushed policy is not valid YAML: ${(err as Error).message}`, 'policy');
    }
    // The contracts are where the bundle puts them, whatever directory the original named.
    const contracts = doc.contracts as { dir?: string } | undefined;
    if (typeof contracts === 'object' && contracts !== null && contracts.dir !== undefined) contracts.dir = 'contracts';
    mkdirSync(join(dir, 'contracts'));
    for (const c of bundle.contracts) writeFileSync(join(dir, 'contracts', c.name), c.text);
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, stringifyYaml(doc));
    const policy = loadPolicy(file);
    // The bundles loaded before this one are not read again.
    for (const old of readdirSync(parent)) if (old.startsWith('policy-') && join(parent, old) !== dir) rmSync(join(parent, old), { recursive: true, force: true });
    return { ...policy, source };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Compiles a bundle only to check it (a scratch directory, removed after). */
export function checkBundle(bundle: PolicyBundle): Policy {
  const scratch = mkdtempSync(join(tmpdir(), 'altrace-policy-check-'));
  try {
    return loadBundle(bundle, scratch, 'pushed');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** The MCP registry of a bundle already checked (checkBundle): what the control plane's Cilium controller holds server pods to. */
export function mcpRegistryOf(bundle: PolicyBundle): McpRegistry {
  return compileMcpRegistry((parseYaml(bundle.policy) as PolicyDocument).mcp);
}
