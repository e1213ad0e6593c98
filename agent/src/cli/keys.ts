import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace keys — virtual keys

Usage:
  altrace keys create --agent NAME --team TEAM [--cost-center NAME] [--model GLOB]... [--provider NAME]...
                      [--expires ISO8601]
  altrace keys list
  altrace keys revoke ID
  altrace keys rotate ID

  --cost-center NAME  the cost center the key's spend is attributed to (altrace budgets spend
                      --by cost_center) and whose budgets cover it (altrace budgets set cost_center NAME)
  --model GLOB        a model the key may call (repeat for more; default: any the policy allows)
  --provider NAME     a provider the key may call (repeat for more; default: any)
  --expires ISO8601   the time after which the key is refused

Options: --json (machine-readable output), --url URL (control API), --token TOKEN (operator token;
also ALTRACE_TOKEN, else <state_dir>/admin.token).
The key is printed once, on create and rotate.
`;

export async function keysCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      agent: { type: 'string' },
      team: { type: 'string' },
      model: { type: 'string', multiple: true },
      provider: { type: 'string', multiple: true },
      expires: { type: 'string' },
      'cost-center': { type: 'string' },
      ...CONTROL_OPTIONS,
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [sub, id] = positionals;
  const out = printer(values.json);
  switch (sub) {
    case 'create': {
      if (!values.agent || !values.team) throw new UsageError('create needs --agent and --team');
      const body = {
        agent: values.agent,
        team: values.team,
        ...(values['cost-center'] ? { cost_center: values['cost-center'] } : {}),
        ...(values.model ? { models: values.model } : {}),
        ...(values.provider ? { providers: values.provider } : {}),
        ...(values.expires ? { expires: values.expires } : {}),
      };
      const data = await call(controlTarget(values), 'POST', '/keys', body);
      out(data, `${data.key}\n(id ${data.id}, agent ${data.agent}, team ${data.team}${data.cost_center ? `, cost center ${data.cost_center}` : ''}; shown once)`);
      return 0;
    }
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/keys');
      const rows = (data.keys as any[]).map(
        (k) => `${k.id}  ${k.prefix}…  agent=${k.agent} team=${k.team}${k.cost_center ? ` cost_center=${k.cost_center}` : ''}${k.models.length ? ` models=${k.models.join(',')}` : ''}${k.revoked ? ' REVOKED' : ''}`,
      );
      out(data, rows.length ? rows.join('\n') : '(no keys)');
      return 0;
    }
    case 'revoke':
    case 'rotate': {
      if (!id) throw new UsageError(`${sub} needs a key id`);
      const data = await call(controlTarget(values), sub === 'revoke' ? 'DELETE' : 'POST', `/keys/${encodeURIComponent(id)}${sub === 'rotate' ? '/rotate' : ''}`);
      out(data, sub === 'revoke' ? `revoked ${data.id}${data.kill ? `; agent ${data.agent} killed (altrace unkill agent ${data.agent} to release)` : ''}` : `${data.key}\n(id ${data.id}; the old key no longer works; shown once)`);
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (create, list, revoke, rotate)');
  }
}
