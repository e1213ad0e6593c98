import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseInstant } from '../../../proxy/src/index.js';
import { loadConfig } from '../config/load.js';
import { PolicyError, UsageError } from '../errors.js';
import { explainRequest, readExplainFile, type Explanation } from '../policy/explain.js';
import { loadContract, loadPolicy } from '../policy/load.js';

const HELP = `altrace policy — policy and contract files

Usage:
  altrace policy check FILE [--json]
  altrace policy explain --agent AGENT [--team TEAM] --request FILE [--path PATH]
                         [--response FILE] [--run ID] [--parent CHAIN] [--at TIME]
                         [--config FILE] [--json]

check    Validates FILE: a policy (policies/policy.schema.json, with the contracts it names)
         or a single contract (policies/contract.schema.json, recognised by its "contract:"
         key). Exit 0 when valid, 1 when not; the message names the file and the field.

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

function check(file: string, json: boolean): number {
  try {
    const contract = isContractFile(file);
    const digest = contract ? loadContract(file).digest : loadPolicy(file).digest;
    const what = contract ? 'contract' : 'policy';
    process.stdout.write(json ? JSON.stringify({ valid: true, file, kind: what, digest }) + '\n' : `${file}: valid ${what} (digest ${digest})\n`);
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
  if (sub !== 'check') throw new UsageError(`unknown subcommand "${sub}" (check, explain)`);
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { json: { type: 'boolean' } } });
  if (positionals.length !== 1) throw new UsageError('check needs one FILE');
  return check(positionals[0]!, values.json === true);
}
