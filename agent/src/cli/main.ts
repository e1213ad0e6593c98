import { AltraceError, UsageError } from '../errors.js';
import { versionCommand } from './version.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

export const HELP = `altrace — runtime governance for AI agents

Usage: altrace <command> [options]

Commands:
  start                 run the node agent (proxy :8080, control API :7070); --control-plane URL: follow a fleet
  control-plane         run a fleet control-plane replica on PostgreSQL (control API :7070, node stream :7443)
  nodes                 the fleet's nodes and their enrollment tokens (control plane)
  demo                  run the agent against the built-in simulated provider and show decisions
  sim                   a simulated LLM provider (every provider's wire format), to try Altrace with no key
  keys                  issue, list, revoke and rotate virtual keys (control API)
  kill SCOPE [NAME]     engage a kill switch: global, team TEAM, agent AGENT; kill list
  unkill SCOPE [NAME]   release a kill switch
  tokens                issue, list and delete operator tokens (admin and team-scoped)
  certs                 operators' client certificates for an HTTPS control API: issue, list, revoke, crl
  budgets               hard budgets (key, agent, team, cost center) and attributed spend
  agents                agents, their enforcement level, recent enforcement; set a level
  approvals             list, approve and deny requests held at contract approval gates
  delegate              delegation contracts: holder keys, root links, attenuation, offline verification
  audit                 verify the tamper-evident log, prove inclusion and consistency, export
  credentials           store real provider keys in the encrypted credential store
  policy check|explain  validate a policy or contract; explain which stage and rule would decide a request
  content               the content detectors offline: precision/recall on a labelled corpus, train a classifier, rule list
  mcp scan              MCP client configurations: credentials, shell commands, unpinned packages, reach (offline)
  bpf status            node enforcement in the kernel: programs, destinations, backstop, counters, workloads
  bpf cilium-policy     strict mode as a CiliumNetworkPolicy (offline)
  bpf uninstall         remove the programs and maps agents left pinned (after the DaemonSet is gone)
  kube node-ca          make the fleet's interception CA as a Secret (idempotent) or as files
  version               the installed version (also --version, -V)
  help COMMAND          a command's help (as altrace COMMAND --help)

Every command has --help. Exit codes: 0 ok, 1 failed check, 2 usage error.
`;

export type Command = (args: string[]) => Promise<number>;

// Loaded on demand: `altrace --version` or `keys list` need not load the whole agent.
const commands: Record<string, () => Promise<Command>> = {
  start: async () => (await import('./start.js')).startCommand,
  'control-plane': async () => (await import('./control-plane.js')).controlPlaneCommand,
  nodes: async () => (await import('./nodes.js')).nodesCommand,
  demo: async () => (await import('./demo.js')).demoCommand,
  sim: async () => (await import('./sim.js')).simCommand,
  keys: async () => (await import('./keys.js')).keysCommand,
  kill: async () => (await import('./kill.js')).killCommand,
  unkill: async () => (await import('./kill.js')).unkillCommand,
  tokens: async () => (await import('./tokens.js')).tokensCommand,
  certs: async () => (await import('./certs.js')).certsCommand,
  budgets: async () => (await import('./budgets.js')).budgetsCommand,
  audit: async () => (await import('./audit.js')).auditCommand,
  agents: async () => (await import('./agents.js')).agentsCommand,
  credentials: async () => (await import('./credentials.js')).credentialsCommand,
  policy: async () => (await import('./policy.js')).policyCommand,
  content: async () => (await import('./content.js')).contentCommand,
  mcp: async () => (await import('./mcp.js')).mcpCommand,
  approvals: async () => (await import('./approvals.js')).approvalsCommand,
  delegate: async () => (await import('./delegate.js')).delegateCommand,
  bpf: async () => (await import('./bpf.js')).bpfCommand,
  kube: async () => (await import('./kube.js')).kubeCommand,
  version: async () => versionCommand,
};

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`altrace audit export | head`) closes the pipe: the rest of the output has nowhere to
  // go, which is no failure of the command. It finishes and exits with its own code instead of dying on EPIPE.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  const [first, ...args] = argv;
  const topic = first === 'help' ? args[0] : undefined;
  if (!first || first === '--help' || first === '-h' || (first === 'help' && (!topic || topic.startsWith('-')))) {
    process.stdout.write(HELP);
    return first ? EXIT.ok : EXIT.usage;
  }
  if (first === '--version' || first === '-V') return versionCommand([]);
  // `altrace help keys` is `altrace keys --help`.
  const [name, rest] = topic ? [topic, ['--help']] : [first, args];
  const load = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!load) {
    process.stderr.write(`altrace: unknown command "${name}"\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    const command = await load();
    return await command(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      const code = err.code === 'ALT_USAGE' ? '' : ` [${err.code}]`;
      process.stderr.write(`altrace ${name}: ${err.message}${code}\n(see altrace ${name} --help)\n`);
      return EXIT.usage;
    }
    if (err instanceof AltraceError) {
      process.stderr.write(`altrace ${name}: ${err.message} [${err.code}]\n`);
      return EXIT.failed;
    }
    const code = (err as { code?: string }).code;
    if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' || code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      process.stderr.write(`altrace ${name}: ${(err as Error).message}\n(see altrace ${name} --help)\n`);
      return EXIT.usage;
    }
    process.stderr.write(`altrace ${name}: ${(err as Error).stack ?? err}\n`);
    return EXIT.failed;
  }
}
