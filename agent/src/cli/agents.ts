import { parseArgs } from 'node:util';
import { LEVELS } from '../../../proxy/src/index.js';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, oneOf, printer } from './client.js';

const HELP = `altrace agents — agents, their enforcement level and recent enforcement

Usage:
  altrace agents list
  altrace agents show AGENT
  altrace agents level AGENT LEVEL [--reason TEXT]

LEVEL is normal, warning (header + audit), throttle (rate cap), quarantine (no tools),
block (refuse) or kill (refuse and end streams: the agent's kill switch). A level set here
stays until an operator changes it; levels set by the policy's escalation rules step down
one level per quiet period. Options: --json, --url URL, --token TOKEN.
`;

interface AgentView {
  id: string;
  kind: 'registered' | 'shadow';
  process?: { pid: number; comm: string };
  providers?: string[];
  first_seen?: string;
  teams: string[];
  level: string;
  level_set_by: string;
  killed: boolean;
  last_seen: string | null;
  recent: { decisions: Record<string, number>; enforcement_reasons: Record<string, number> };
}

function line(a: AgentView): string {
  if (a.kind === 'shadow') return `${a.id.padEnd(24)} SHADOW     ${a.process!.comm} pid ${a.process!.pid} → ${a.providers!.join(',') || 'unknown'}  first seen ${a.first_seen}  last seen ${a.last_seen}`;
  const blocked = Object.entries(a.recent.enforcement_reasons)
    .map(([r, n]) => `${r}×${n}`)
    .join(' ');
  return `${a.id.padEnd(24)} ${a.level.padEnd(10)} teams=${a.teams.join(',')}${a.killed ? ' KILLED' : ''}  last seen ${a.last_seen ?? 'never'}${blocked ? `  ${blocked}` : ''}`;
}

export async function agentsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { reason: { type: 'string' }, ...CONTROL_OPTIONS } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub, agent, level] = positionals;
  switch (sub) {
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/agents');
      out(data, (data.agents as AgentView[]).map(line).join('\n') || '(no agents)');
      return 0;
    }
    case 'show': {
      if (!agent) throw new UsageError('show needs an agent name');
      const data = await call(controlTarget(values), 'GET', `/agents/${encodeURIComponent(agent)}`);
      out(data, JSON.stringify(data, null, 2));
      return 0;
    }
    case 'level': {
      if (!agent || !level) throw new UsageError('level needs AGENT and LEVEL');
      const data = await call(controlTarget(values), 'PUT', `/agents/${encodeURIComponent(agent)}/level`, { level: oneOf(level, LEVELS, 'LEVEL'), ...(values.reason ? { reason: values.reason } : {}) });
      out(data, `agent ${data.agent} is now at level ${data.level}`);
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (list, show, level)');
  }
}
