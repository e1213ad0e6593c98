import { AltraceError, UsageError } from '../errors.js';
import { keysCommand } from './keys.js';
import { policyCommand } from './policy.js';
import { startCommand } from './start.js';
import { demoCommand } from './demo.js';
import { credentialsCommand } from './credentials.js';
import { agentsCommand } from './agents.js';
import { bpfCommand } from './bpf.js';
import { auditCommand } from './audit.js';
import { budgetsCommand } from './budgets.js';
import { killCommand, unkillCommand } from './kill.js';
import { tokensCommand } from './tokens.js';
import { contentCommand } from './content.js';
import { approvalsCommand } from './approvals.js';
import { delegateCommand } from './delegate.js';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const HELP = `altrace — runtime governance for AI agents

Usage: altrace <command> [options]

Commands:
  start                 run the node agent (proxy :8080, control API :7070)
  demo                  run the agent against the built-in simulated provider and show decisions
  keys                  issue, list, revoke and rotate virtual keys (control API)
  kill SCOPE [NAME]     engage a kill switch: global, team TEAM, agent AGENT; kill list
  unkill SCOPE [NAME]   release a kill switch
  tokens                issue, list and delete operator tokens (admin and team-scoped)
  budgets               hard budgets (key, agent, team, cost center) and attributed spend
  agents                agents, their enforcement level, recent enforcement; set a level
  approvals             list, approve and deny requests held at contract approval gates
  delegate              delegation contracts: holder keys, root links, attenuation, offline verification
  audit                 verify the tamper-evident log, prove inclusion and consistency, export
  credentials           store real provider keys in the encrypted credential store
  policy check|explain validate a policy or contract; explain which stage and rule would decide a request
  content               the content detectors offline: precision/recall on a labelled corpus, rule list
  bpf status            node enforcement in the kernel: programs, destinations, counters, shadow agents

Every command has --help. Exit codes: 0 ok, 1 failed check, 2 usage error.
`;

export type Command = (args: string[]) => Promise<number>;

const commands: Record<string, Command> = {
  start: startCommand,
  demo: demoCommand,
  keys: keysCommand,
  kill: killCommand,
  unkill: unkillCommand,
  tokens: tokensCommand,
  budgets: budgetsCommand,
  audit: auditCommand,
  agents: agentsCommand,
  credentials: credentialsCommand,
  policy: policyCommand,
  content: contentCommand,
  approvals: approvalsCommand,
  delegate: delegateCommand,
  bpf: bpfCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(HELP);
    return name ? EXIT.ok : EXIT.usage;
  }
  const command = commands[name];
  if (!command) {
    process.stderr.write(`altrace: unknown command "${name}"\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    return await command(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`altrace ${name}: ${err.message}\n(see altrace ${name} --help)\n`);
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
