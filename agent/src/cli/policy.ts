import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { Classifier, parseInstant, type Policy } from '../../../proxy/src/index.js';
import { loadConfig } from '../config/load.js';
import { AltraceError, PolicyError, UsageError } from '../errors.js';
import { explainRequest, readExplainFile, type Explanation } from '../policy/explain.js';
import { loadContract, loadPolicy } from '../policy/load.js';
import { readBundle } from '../policy/bundle.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace policy — policy and contract files

Usage:
  altrace policy check FILE [--json]
  altrace policy push FILE [--url URL] [--token TOKEN] [--json]
  altrace policy explain --agent AGENT [--team TEAM] --request FILE [--path PATH]
                         [--response FILE] [--run ID] [--parent CHAIN] [--at TIME]
                         [--config FILE] [--json]

check    Validates FILE: a policy (policies/policy.schema.json, with the contracts it names)
         or a single contract (policies/contract.schema.json, recognised by its "contract:"
         key). The classifiers a policy declares (content.classifiers) are loaded as the scan
         workers would load them. Exit 0 when valid, 1 when not; the message names the file
         and the field.

push     Sends FILE and the contracts of the directory it names to a fleet control plane
         (admin token): checked there as a node would load it, then every node enforces it
         in place of its own policy file (docs/fleet.md). Pushing the same policy again
         changes nothing.

explain  Runs the request in FILE (the provider-native JSON body, sent to PATH, default
         /v1/chat/completions) through the agent's chain offline, as AGENT of TEAM (default
         the agent's name) holding a key with no limits of its own, under the configured
         policy and contracts. Prints every stage's verdict up to the one that decides, the
         contracts that apply, the reason and the hint. With --response FILE (a provider
         response body) it also judges the tool calls the model makes in it. Kill switches,
         levels, budgets and earlier runs are the live agent's and are not consulted.
         --parent CHAIN (or @FILE) is a delegation chain as a worker sends it in
         x-altrace-parent: verified against this node's root and delegation.trusted_keys,
         and its grant judged as one more contract.
         --at TIME judges the request as if it were sent at TIME (ISO 8601 with its offset,
         e.g. 2026-12-07T12:00:00Z, or epoch milliseconds; default now): contract hours,
         expiry and delegation lifetimes are read at that instant.
         Exit 0 when the request (and response) would be allowed, 1 when refused.
`;

function readChainFile(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new PolicyError(`cannot read the delegation chain file ${file}: ${(err as Error).message}`, '(parent)');
  }
}

function isContractFile(file: string): boolean {
  try {
    const doc = parseYaml(readFileSync(file, 'utf8')) as unknown;
    return typeof doc === 'object' && doc !== null && 'contract' in doc;
  } catch {
    return false;
  }
}

/** Loads every declared classifier as the scan workers will, so a model that cannot run is found before it is deployed. */
async function loadClassifiers(policy: Policy, file: string): Promise<number> {
  for (const [i, spec] of policy.content.classifiers.entries()) {
    try {
      await (await Classifier.load(spec)).close();
    } catch (err) {
      throw new PolicyError(`invalid policy ${file}: content.classifiers.${i}: ${(err as Error).message}`, `content.classifiers.${i}.model`);
    }
  }
  return policy.content.classifiers.length;
}

async function check(file: string, json: boolean): Promise<number> {
  try {
    const contract = isContractFile(file);
    const policy = contract ? null : loadPolicy(file);
    const digest = policy ? policy.digest : loadContract(file).digest;
    const classifiers = policy ? await loadClassifiers(policy, file) : 0;
    const what = contract ? 'contract' : 'policy';
    const loaded = classifiers ? `; ${classifiers} classifier${classifiers > 1 ? 's' : ''} loaded` : '';
    process.stdout.write(json ? JSON.stringify({ valid: true, file, kind: what, digest, classifiers }) + '\n' : `${file}: valid ${what} (digest ${digest}${loaded})\n`);
    return 0;
  } catch (err) {
    const e = err as Error & { field?: string };
    process.stdout.write(json ? JSON.stringify({ valid: false, file, field: e.field, message: e.message }) + '\n' : `${e.message}\n`);
    return 1;
  }
}

function verdictLine(v: Explanation['decision'] | null): string {
  if (!v) return 'allow';
  return v.outcome === 'allow' ? 'allow' : `${v.outcome.toUpperCase()} ${v.reason}${v.detail ? `  (${v.detail})` : ''}`;
}

function render(e: Explanation, agent: string, team: string): string {
  const lines = [`policy     ${e.policy}`, `at         ${e.at}`, `principal  agent ${agent}, team ${team}`, `contracts  ${e.contracts.join(', ') || '(none apply)'}`, 'request side:'];
  e.stages.forEach((s, i) => lines.push(`  ${String(i + 1).padStart(2)} ${s.id.padEnd(24)} ${verdictLine(s.verdict)}`));
  const d = e.decision;
  lines.push(d.outcome === 'allow' ? 'decision   allow' : `decision   ${d.outcome} ${d.reason} at stage ${d.stage}`);
  if (d.outcome !== 'allow' && d.hint) lines.push(`hint       ${d.hint}`);
  if (e.response) {
    lines.push(`response   tool calls: ${e.response.toolCalls.join(', ') || '(none)'}`);
    const v = e.response.verdict;
    lines.push(v ? `           ${v.outcome} ${v.reason} at stage ${v.stage}${v.detail ? ` (${v.detail})` : ''}` : '           allow');
    if (v?.hint) lines.push(`hint       ${v.hint}`);
  }
  return lines.join('\n') + '\n';
}

async function explain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: 'string' },
      team: { type: 'string' },
      request: { type: 'string' },
      response: { type: 'string' },
      path: { type: 'string', default: '/v1/chat/completions' },
      run: { type: 'string' },
      parent: { type: 'string' },
      at: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  if (!values.agent) throw new UsageError('explain needs --agent AGENT');
  if (!values.request) throw new UsageError('explain needs --request FILE');
  if (!values.path.startsWith('/')) throw new UsageError(`--path must start with "/" (got "${values.path}")`);
  const team = values.team ?? values.agent;
  const at = values.at === undefined ? Date.now() : parseInstant(values.at);
  if (at === null) throw new UsageError(`--at must be an ISO 8601 date-time with its offset (2026-12-07T12:00:00Z) or epoch milliseconds (got "${values.at}")`);
  const e = await explainRequest(loadConfig({ file: values.config }), {
    agent: values.agent,
    team,
    request: readExplainFile(values.request, 'request'),
    response: values.response ? readExplainFile(values.response, 'response') : null,
    path: values.path,
    run: values.run ?? null,
    parent: values.parent === undefined ? null : values.parent.startsWith('@') ? readChainFile(values.parent.slice(1)) : values.parent,
    at,
  });
  process.stdout.write(values.json ? JSON.stringify(e) + '\n' : render(e, values.agent, team));
  const refused = e.decision.outcome !== 'allow' || (e.response?.verdict != null && e.response.verdict.outcome !== 'allow');
  return refused ? 1 : 0;
}

async function push(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: CONTROL_OPTIONS });
  if (positionals.length !== 1) throw new UsageError('push needs one FILE: the policy file (its contracts directory goes with it)');
  let bundle;
  try {
    bundle = readBundle(positionals[0]!);
  } catch (err) {
    if (err instanceof AltraceError) throw err;
    throw new AltraceError('ALT_POLICY_INVALID', `cannot read the policy ${positionals[0]}: ${(err as Error).message}`);
  }
  const r = (await call(controlTarget(values), 'PUT', '/policy', bundle)) as { digest: string; contracts: string[] };
  printer(values.json)(r, `pushed policy ${r.digest} with ${r.contracts.length} contract${r.contracts.length === 1 ? '' : 's'}${r.contracts.length ? ` (${r.contracts.join(', ')})` : ''}: every node loads it from its stream`);
  return 0;
}

export async function policyCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (!sub || sub === '--help' || sub === '-h') {
    process.stdout.write(HELP);
    return sub ? 0 : 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return 0;
  }
  if (sub === 'explain') return explain(rest);
  if (sub === 'push') return push(rest);
  if (sub !== 'check') throw new UsageError(`unknown subcommand "${sub}" (check, explain, push)`);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('check needs one FILE');
  return check(positionals[0]!, values.json === true);
}
