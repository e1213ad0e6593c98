import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isRecord } from '../../../proxy/src/index.js';
import { stringify as stringifyYaml } from 'yaml';
import { UsageError } from '../errors.js';
import { ratio } from './client.js';
import { classifierScores, readCorpus, shippedDetectors } from './corpus.js';
import { McpConfigError, readConfigFile, readKnownConfigs, type McpServerEntry } from '../mcp/client-configs.js';
import { checkConfigs, SEVERITIES, sortFindings, type Severity } from '../mcp/config-checks.js';
import { pinTools, policyFragment, wrappedConfig } from '../mcp/emit.js';
import { listLiveTools, liveToolFindings } from '../mcp/live-tools.js';
import { lockedPackages, lockfileFindings, provenanceFindings, registryFindings } from '../mcp/registry-checks.js';
import { shippedTrustedRoot } from '../mcp/provenance.js';
import { loadPolicy } from '../policy/load.js';
import { toSarif } from '../mcp/sarif.js';
import { evaluateTools } from '../mcp/tool-eval.js';
import { packageVersion } from './version.js';

const HELP = `altrace mcp — MCP servers, before they are trusted

Usage:
  altrace mcp scan [FILE ...] [--all] [--json | --sarif] [--fail-on SEVERITY] [--connect]
                   [--policy FILE] [--lockfile FILE] [--provenance DIR [--trusted-root FILE]]
                   [--emit-policy OUT] [--emit-config OUT]
  altrace mcp eval --corpus DIR|FILE.jsonl [--classifier MODEL.onnx [--threshold T]] [--json] [--min-precision P] [--min-recall R]
  altrace mcp pin FILE --server NAME [--json]
  altrace mcp wrap --server NAME [--proxy URL] [--key KEY] -- COMMAND [ARG ...]

scan     Reads MCP client configurations — the FILEs given, or with --all (the default when no
         FILE is given) every one the clients keep here: Claude Desktop, Claude Code (~/.claude.json,
         .mcp.json), Cursor, VS Code (.vscode/mcp.json, settings.json), Windsurf — and reports,
         per server: credentials written into the config (env values, headers, arguments, URLs),
         commands run through a shell or piped from the network, packages fetched unpinned at
         every start (npx, bunx, uvx, pipx), container images by tag, broad filesystem roots and
         mounts, unrestricting flags, remote servers over plain http, and one server name used
         for different servers. Offline: nothing is sent anywhere; findings name the JSON path,
         never the value.
         --json     the findings as JSON          --sarif   SARIF 2.1.0, for code scanning in CI
         --fail-on  exit 1 when a finding is at least this severe: low, medium, high (default),
                    critical
         --connect  also start each stdio server (as its client would) or call each remote one,
                    read its tool list and scan it as the proxy would: instructions to the model,
                    covert markers, secrets, names shadowing another server's tools. Runs the
                    configured commands: use on configurations you would run anyway
         --policy FILE  hold each server against the policy's registry (mcp.servers): not
                    registered, blocked, or launching another package or version than its
                    server.json lists (what the proxy would refuse)
         --lockfile FILE  a package-lock.json: each npm package a server launches must be in it,
                    at the version it locks (and --provenance holds the statement to its integrity)
         --provenance DIR   verify each pinned npm package's provenance offline, from the
                    attestations npm serves (GET /-/npm/v1/attestations/NAME@VERSION) saved as
                    DIR/NAME@VERSION.json: Sigstore bundle checked against --trusted-root (default:
                    the public-good root @sigstore/tuf ships), the statement about this package
                    and version, built from the registry's repository (with --policy)
         --emit-policy OUT   write the policy entries that govern these servers: destinations and,
                    with --connect, every tool pinned as listed now (review before merging); the
                    agent-config entries they need head the file as a comment
         --emit-config OUT   write the configuration (one FILE) with each stdio server started
                    through altrace mcp wrap (OUT may be FILE: replaced whole, comments dropped)
eval     Scores the description scanning on labelled MCP tool definitions (*.jsonl: {"id", "text":
         <the tool's JSON as tools/list returns it>, "labels": ["mcp.poisoning"] or [], "category"?}):
         each definition is scanned as the proxy scans a tool list, and any finding counts as
         poisoned. Prints precision, recall, recall per category and the ids missed or wrongly
         flagged; with --min-precision/--min-recall, exits 1 below them. --classifier also scores
         each definition's JSON with an ONNX model (altrace content train; as content.classifiers
         would score a tool list): a score at or above --threshold (0.5) counts as poisoned too.
pin      Reads a server's tools/list answer (FILE: the JSON-RPC response, its result, or the
         tools array; - for stdin) and prints the policy entry that pins each tool as it is
         now (mcp.servers.NAME.tools: the model-visible and structure digests, the read-only
         and destructive hints). Review the tools first: a pin approves them.
wrap     Starts a stdio MCP server and relays its messages through the proxy's chain
         (altrace mcp wrap --help).
Exit codes (scan): 0 nothing at or above --fail-on, 1 findings at or above it (or a configuration that
cannot be read), 2 usage error.
`;

export async function mcpCommand(args: string[]): Promise<number> {
  // wrap takes the server's own command line after --, which parseArgs below would read.
  if (args[0] === 'wrap') return (await import('./mcp-wrap.js')).wrapCommand(args.slice(1));
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      sarif: { type: 'boolean' },
      'fail-on': { type: 'string' },
      corpus: { type: 'string' },
      server: { type: 'string' },
      'min-precision': { type: 'string' },
      'min-recall': { type: 'string' },
      classifier: { type: 'string' },
      threshold: { type: 'string' },
      connect: { type: 'boolean' },
      'emit-policy': { type: 'string' },
      'emit-config': { type: 'string' },
      policy: { type: 'string' },
      provenance: { type: 'string' },
      lockfile: { type: 'string' },
      'trusted-root': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [sub, ...files] = positionals;
  if (sub !== 'eval' && (values.classifier !== undefined || values.threshold !== undefined)) throw new UsageError('--classifier and --threshold are options of mcp eval');
  if (sub === 'eval') return evalCommand(values.corpus, values.json === true, values['min-precision'], values['min-recall'], values.classifier, values.threshold);
  if (sub === 'pin') return pinCommand(files, values.server, values.json === true);
  if (sub !== 'scan') throw new UsageError(sub ? `unknown subcommand "${sub}" (scan, eval, pin, wrap)` : 'name a subcommand: scan, eval, pin or wrap');
  if (values.json && values.sarif) throw new UsageError('--json and --sarif: choose one');
  const failOn = (values['fail-on'] ?? 'high') as Severity;
  if (!SEVERITIES.includes(failOn)) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}`);
  for (const f of files) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
  if (values.policy !== undefined && !existsSync(values.policy)) throw new UsageError(`--policy ${values.policy}: no such file`);
  if (values.provenance !== undefined && !existsSync(values.provenance)) throw new UsageError(`--provenance ${values.provenance}: no such directory`);
  if (values['trusted-root'] !== undefined && values.provenance === undefined) throw new UsageError('--trusted-root goes with --provenance DIR');
  const emitConfig = values['emit-config'];
  if (emitConfig !== undefined && (files.length !== 1 || values.all)) throw new UsageError('--emit-config rewrites one configuration: give exactly one FILE');

  const servers: McpServerEntry[] = [];
  const errors: McpConfigError[] = [];
  let scanned: string[];
  if (files.length === 0 || values.all) {
    const known = readKnownConfigs();
    servers.push(...known.servers);
    errors.push(...known.errors);
    scanned = known.files;
  } else scanned = [];
  for (const f of files) {
    scanned.push(resolve(f));
    try {
      servers.push(...readConfigFile(resolve(f)));
    } catch (err) {
      if (!(err instanceof McpConfigError)) throw err;
      errors.push(err);
    }
  }
  const detectors = shippedDetectors();
  const live = values.connect ? await Promise.all(servers.map((s) => listLiveTools(s, CONNECT_TIMEOUT_MS))) : [];
  const registryOfPolicy = values.policy !== undefined ? loadPolicy(values.policy).mcp : null;
  const registry = registryOfPolicy ? registryFindings(servers, registryOfPolicy, values.policy!) : [];
  const locked = values.lockfile !== undefined ? lockedPackages(readJsonOption('--lockfile', values.lockfile)) : null;
  const lockfile = locked ? lockfileFindings(servers, locked, values.lockfile!) : [];
  const provenance = values.provenance !== undefined ? provenanceFindings(servers, registryOfPolicy, values.provenance, trustedRootFrom(values['trusted-root']), locked) : [];
  const findings = sortFindings([...checkConfigs(servers, detectors), ...liveToolFindings(live, detectors), ...registry, ...lockfile, ...provenance]);
  if (values['emit-policy'] !== undefined) {
    writeReplacing(values['emit-policy'], policyFragment(servers, live));
    process.stderr.write(`wrote ${values['emit-policy']}: ${servers.length} server${servers.length === 1 ? '' : 's'}, ${live.filter((l) => l.tools).reduce((n, l) => n + l.tools!.length, 0)} tools pinned\n`);
  }
  if (emitConfig !== undefined) {
    const { text, wrapped } = wrappedConfig(resolve(files[0]!));
    writeReplacing(emitConfig, text);
    process.stderr.write(`wrote ${emitConfig}: ${wrapped.length ? wrapped.map((w) => `${w.server} through altrace mcp wrap --server ${w.as}`).join(', ') : 'every stdio server already went through altrace mcp wrap'}\n`);
  }
  const failing = findings.some((f) => SEVERITIES.indexOf(f.severity) >= SEVERITIES.indexOf(failOn)) || errors.length > 0;

  if (values.sarif) process.stdout.write(JSON.stringify(toSarif(findings, packageVersion()), null, 2) + '\n');
  else if (values.json) {
    process.stdout.write(JSON.stringify({ files: scanned, servers: servers.map((s) => ({ name: s.name, file: s.file, client: s.client })), findings, errors: errors.map((e) => e.message) }, null, 2) + '\n');
  } else {
    process.stdout.write(`${scanned.length} configuration${scanned.length === 1 ? '' : 's'}, ${servers.length} server${servers.length === 1 ? '' : 's'}, ${findings.length} finding${findings.length === 1 ? '' : 's'}\n`);
    for (const e of errors) process.stdout.write(`error     ${e.message}\n`);
    for (const f of findings) process.stdout.write(`${f.severity.padEnd(9)} ${f.rule.padEnd(24)} ${f.server.padEnd(18)} ${f.message}\n          at ${f.file} ${f.at}\n`);
  }
  return failing ? 1 : 0;
}


/** A JSON file an option names; unreadable, a usage error naming the option. */
function readJsonOption(option: string, file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`${option} ${file}: not a readable JSON file (${(err as Error).message})`);
  }
}

/** Sigstore's trusted_root.json from FILE, else the public-good instance's as @sigstore/tuf ships it. */
function trustedRootFrom(file: string | undefined): unknown {
  return file === undefined ? shippedTrustedRoot() : readJsonOption('--trusted-root', file);
}

/** How long --connect waits for one server to start and list its tools. */
const CONNECT_TIMEOUT_MS = 20_000;

/** Written beside, then renamed over: a reader never sees half a file, and OUT may be the input. */
function writeReplacing(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

async function evalCommand(corpus: string | undefined, json: boolean, minPrecision: string | undefined, minRecall: string | undefined, classifier: string | undefined, threshold: string | undefined): Promise<number> {
  if (!corpus) throw new UsageError('eval needs --corpus DIR or FILE.jsonl (labelled tool definitions; docs/mcp.md)');
  const minP = ratio(minPrecision, 'min-precision');
  const minR = ratio(minRecall, 'min-recall');
  const cut = ratio(threshold, 'threshold') ?? 0.5;
  if (threshold !== undefined && !classifier) throw new UsageError('--threshold is the cut of --classifier MODEL.onnx: name the model');
  const { items } = readCorpus(corpus);
  const set = shippedDetectors();
  // The classifier reads what the proxy's content stage reads: the definition's JSON as the server sent it.
  const classified = classifier ? (await classifierScores(resolve(classifier), items.map((i) => i.text))).map((score) => score >= cut) : undefined;
  const q = evaluateTools(set, items, classified);
  const failing = (minP !== null && q.precision < minP) || (minR !== null && q.recall < minR);
  if (json) process.stdout.write(JSON.stringify({ corpus, items: items.length, quality: q, failing }, null, 2) + '\n');
  else {
    process.stdout.write(`${items.length} tool definitions: precision ${q.precision.toFixed(3)}, recall ${q.recall.toFixed(3)} (TP ${q.truePositives}, FP ${q.falsePositives}, FN ${q.falseNegatives})\n`);
    for (const c of q.categories) process.stdout.write(`  ${c.category.padEnd(22)}${c.expected ? ` recall ${(c.found / c.expected).toFixed(3)} (${c.found}/${c.expected})` : ''}${c.wrong ? ` wrongly flagged ${c.wrong}` : ''}\n`);
    if (q.missed.length) process.stdout.write(`  missed: ${q.missed.slice(0, 12).join(' ')}${q.missed.length > 12 ? ' …' : ''}\n`);
    if (q.wrong.length) process.stdout.write(`  wrong:  ${q.wrong.slice(0, 12).join(' ')}${q.wrong.length > 12 ? ' …' : ''}\n`);
  }
  return failing ? 1 : 0;
}

function pinCommand(files: string[], server: string | undefined, json: boolean): number {
  if (files.length !== 1) throw new UsageError('pin needs one FILE (a tools/list answer, or - for stdin)');
  if (!server || !/^[A-Za-z0-9][\w.-]{0,63}$/.test(server)) throw new UsageError('pin needs --server NAME (the server name of /mcp/{name})');
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(files[0] === '-' ? 0 : files[0]!, 'utf8'));
  } catch (err) {
    throw new UsageError(`${files[0]}: not JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(doc) ? doc : isRecord(doc) && isRecord(doc.result) ? doc.result.tools : isRecord(doc) ? doc.tools : undefined;
  if (!Array.isArray(list) || list.some((t) => !isRecord(t) || typeof t.name !== 'string')) throw new UsageError(`${files[0]}: no tools array of named tools (a tools/list response, its result, or the array)`);
  const tools = pinTools(list as Record<string, unknown>[]);
  const entry = { mcp: { servers: { [server]: { tools } } } };
  process.stdout.write(json ? JSON.stringify(entry, null, 2) + '\n' : stringifyYaml(entry));
  return 0;
}
