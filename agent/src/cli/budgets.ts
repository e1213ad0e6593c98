import { parseArgs } from 'node:util';
import { BUDGET_SCOPES, WINDOWS } from '../../../proxy/src/index.js';
import { SPEND_DIMENSIONS } from '../services/budget-service.js';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, oneOf, printer } from './client.js';

const HELP = `altrace budgets — hard budgets and spend

Usage:
  altrace budgets list
  altrace budgets set SCOPE TARGET [--daily USD] [--weekly USD] [--monthly USD]
  altrace budgets remove SCOPE TARGET
  altrace budgets spend [--by team|agent|key|cost_center|function|model] [--window daily|weekly|monthly]

SCOPE is key, agent, team or cost_center. Windows follow UTC calendar days, ISO weeks
(Monday) and months. A request that could exceed any budget covering it is refused (429,
ALT_BUDGET_EXCEEDED) before the provider is called. Options: --json, --url URL, --token TOKEN.
`;

function usd(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${flag} must be a non-negative number of USD`);
  return n;
}

type WindowView = { limit: number | null; spent: number; reserved: number; resets: string };

export async function budgetsCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { daily: { type: 'string' }, weekly: { type: 'string' }, monthly: { type: 'string' }, by: { type: 'string' }, window: { type: 'string' }, ...CONTROL_OPTIONS },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub, scope, target] = positionals;
  switch (sub) {
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/budgets');
      const rows = (data.budgets as { scope: string; target: string; windows: Record<string, WindowView> }[]).map(
        (b) =>
          `${b.scope} ${b.target}  ` +
          Object.entries(b.windows)
            .filter(([, w]) => w.limit !== null)
            .map(([name, w]) => `${name} $${w.spent.toFixed(4)} spent + $${w.reserved.toFixed(4)} reserved of $${w.limit}`)
            .join(', '),
      );
      out(data, rows.length ? rows.join('\n') : '(no budgets)');
      return 0;
    }
    case 'set':
    case 'remove': {
      if (!scope || !target) throw new UsageError(`${sub} needs SCOPE and TARGET`);
      oneOf(scope, BUDGET_SCOPES, 'SCOPE');
      const limits =
        sub === 'remove'
          ? { daily: null, weekly: null, monthly: null }
          : { daily: usd(values.daily, 'daily'), weekly: usd(values.weekly, 'weekly'), monthly: usd(values.monthly, 'monthly') };
      if (sub === 'set' && Object.values(limits).every((v) => v === undefined)) throw new UsageError('set needs at least one of --daily, --weekly, --monthly');
      const data = await call(controlTarget(values), 'PUT', `/budgets/${encodeURIComponent(scope)}/${encodeURIComponent(target)}`, limits);
      out(data, data.removed ? `removed the budget of ${scope} ${target}` : `budget of ${scope} ${target} set`);
      return 0;
    }
    case 'spend': {
      const q = new URLSearchParams({ by: oneOf(values.by ?? 'team', SPEND_DIMENSIONS, '--by'), window: oneOf(values.window ?? 'monthly', WINDOWS, '--window') });
      const data = await call(controlTarget(values), 'GET', `/spend?${q}`);
      const rows = (data.rows as Record<string, unknown>[]).map((r) => `${String(r[data.by] ?? '(none)').padEnd(24)} $${(r.usd as number).toFixed(6)}  ${r.requests} requests`);
      out(data, [`${data.window} ${data.from}..${data.to} by ${data.by}: $${(data.total_usd as number).toFixed(6)}`, ...rows].join('\n'));
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'missing subcommand (list, set, remove, spend)');
  }
}
