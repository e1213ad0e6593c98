import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadDefaultDetectors } from '../../../proxy/src/index.js';
import { UsageError } from '../errors.js';
import { McpConfigError, readConfigFile, readKnownConfigs, type McpServerEntry } from '../mcp/client-configs.js';
import { checkConfigs, SEVERITIES, type Severity } from '../mcp/config-checks.js';
import { toSarif } from '../mcp/sarif.js';
import { packageRoot } from '../paths.js';
import { packageVersion } from './version.js';

const HELP = `altrace mcp — MCP servers, before they are trusted

Usage:
  altrace mcp scan [FILE ...] [--all] [--json | --sarif] [--fail-on SEVERITY]

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
Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it (or a configuration that
cannot be read), 2 usage error.
`;

export async function mcpCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      all: { type: 'boolean' },
      json: { type: 'boolean' },
      sarif: { type: 'boolean' },
      'fail-on': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [sub, ...files] = positionals;
  if (sub !== 'scan') throw new UsageError(sub ? `unknown subcommand "${sub}" (scan)` : 'name a subcommand: scan');
  if (values.json && values.sarif) throw new UsageError('--json and --sarif: choose one');
  const failOn = (values['fail-on'] ?? 'high') as Severity;
  if (!SEVERITIES.includes(failOn)) throw new UsageError(`--fail-on must be one of ${SEVERITIES.join(', ')}`);
  for (const f of files) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);

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
  const { set } = loadDefaultDetectors(join(packageRoot, 'policies', 'rules', 'gitleaks.toml'));
  const findings = checkConfigs(servers, set);
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
