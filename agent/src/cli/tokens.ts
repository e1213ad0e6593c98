import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace tokens — operator tokens (admin token required)

Usage:
  altrace tokens create --name NAME [--team TEAM] [--role ROLE] [--ttl SECONDS]
  altrace tokens list
  altrace tokens delete NAME
  altrace tokens rotate NAME [--grace SECONDS]   a new secret; the old one works as NAME~previous for the grace (default 3600)
  altrace tokens lockouts             sources refused for failed tokens, and for how long
  altrace tokens unlock SOURCE        lift one

Roles: admin (every team; no --team), operator (the default with --team: reads and changes its
team's keys, agents, kill switches and budgets, answers its approvals, reads its audit records),
viewer (reads them, and sees approvals), auditor (the audit log and its proofs, nothing else),
approver (sees and answers its team's approvals, nothing else). docs/security.md#roles.
--ttl: the token is refused after that many seconds (default: it does not expire). To rotate a
token without downtime: tokens rotate NAME prints the new secret, the old one keeps working for
--grace seconds under the name NAME~previous (the audit log shows who still uses it).
The token is printed once. Options: --json, --url URL, --token TOKEN.
`;

export async function tokensCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      team: { type: 'string' },
      role: { type: 'string' },
      ttl: { type: 'string' },
      grace: { type: 'string' },
      ...CONTROL_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub, name] = positionals;
  switch (sub) {
    case 'create': {
      if (!values.name) throw new UsageError('create needs --name');
      const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
      if (ttl !== undefined && !(Number.isInteger(ttl) && ttl > 0)) throw new UsageError('--ttl must be a whole number of seconds');
      const data = await call(controlTarget(values), 'POST', '/tokens', { name: values.name, ...(values.team ? { team: values.team } : {}), ...(values.role ? { role: values.role } : {}), ...(ttl !== undefined ? { ttl_s: ttl } : {}) });
      out(data, `${data.token}\n(${data.role} token ${data.name}${data.team ? ` of team ${data.team}` : ''}; shown once)`);
      return 0;
    }
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/tokens');
      const rows = (data.tokens as { name: string; team: string | null; role: string; created: string }[]).map((t) => `${t.name}  ${t.role}${t.team ? `  team=${t.team}` : ''}  ${t.created}`);
      out(data, rows.join('\n'));
      return 0;
    }
    case 'rotate': {
      if (!name) throw new UsageError('rotate needs a token name');
      const grace = values.grace === undefined ? undefined : Number(values.grace);
      if (grace !== undefined && !(Number.isInteger(grace) && grace >= 0)) throw new UsageError('--grace must be a whole number of seconds');
      const data = await call(controlTarget(values), 'POST', `/tokens/${encodeURIComponent(name)}/rotate`, grace === undefined ? {} : { grace_s: grace });
      out(data, `${data.token}\n(${data.name}'s new secret; shown once. The old one ${data.previous_until ? `works as ${data.name}~previous until ${data.previous_until}` : 'is refused from now on'})`);
      return 0;
    }
    case 'delete': {
      if (!name) throw new UsageError('delete needs a token name');
      const data = await call(controlTarget(values), 'DELETE', `/tokens/${encodeURIComponent(name)}`);
      out(data, `deleted ${data.deleted.name}`);
      return 0;
    }
    case 'lockouts': {
      const data = await call(controlTarget(values), 'GET', '/lockouts');
      const rows = (data.lockouts as { source: string; retry_after_s: number }[]).map((l) => `${l.source}  locked for ${l.retry_after_s} s more`);
      out(data, rows.length ? rows.join('\n') : 'no source is locked out');
      return 0;
    }
    case 'unlock': {
      if (!name) throw new UsageError('unlock needs a source address');
      const data = await call(controlTarget(values), 'DELETE', `/lockouts/${encodeURIComponent(name)}`);
      out(data, `unlocked ${data.cleared}`);
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (create, list, delete, lockouts, unlock)');
  }
}
