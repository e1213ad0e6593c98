import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const KILL_HELP = `altrace kill — kill switches

Usage:
  altrace kill global [--reason TEXT]        stop every agent (admin token)
  altrace kill team TEAM [--reason TEXT]     stop every agent of a team
  altrace kill agent AGENT [--reason TEXT]   stop one agent (all its keys)
  altrace kill list                          the switches engaged now

A kill is on disk before it is acknowledged; from then on the principal's requests are
refused (403, ALT_KILLED_*) and its streams already under way are ended.
Options: --json, --url URL (control API), --token TOKEN (operator token; also ALTRACE_TOKEN,
else <state_dir>/admin.token).
`;

const UNKILL_HELP = `altrace unkill — release a kill switch

Usage:
  altrace unkill global
  altrace unkill team TEAM
  altrace unkill agent AGENT

Prints what was released: the switch, who released it and when, and how long it had been
engaged (and who engaged it, why). The agents it stopped are served again at once.
Options: --json, --url URL, --token TOKEN (as for altrace kill).
`;

const OPTIONS = {
  reason: { type: 'string' },
  ...CONTROL_OPTIONS,
} as const;

interface SwitchView {
  scope: string;
  target: string;
  reason: string | null;
  by: string;
  engaged: string;
}

interface ReleaseView {
  released: SwitchView;
  released_at: string;
  released_by: string;
  engaged_for_s: number;
}

const switchName = (k: SwitchView) => (k.scope === 'global' ? 'global' : `${k.scope} ${k.target}`);

function describe(k: SwitchView): string {
  return `${switchName(k)}  (by ${k.by}, ${k.engaged}${k.reason ? `: ${k.reason}` : ''})`;
}

function describeRelease(r: ReleaseView): string {
  const k = r.released;
  return `released ${switchName(k)} at ${r.released_at} by ${r.released_by}, engaged for ${duration(r.engaged_for_s)} (since ${k.engaged} by ${k.by}${k.reason ? `: ${k.reason}` : ''})`;
}

/** 45s, 12m 5s, 3h 20m, 2d 4h: the two largest units are enough to read. */
function duration(seconds: number): string {
  const units: [string, number][] = [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]];
  let rest = Math.floor(seconds);
  const parts: string[] = [];
  for (const [unit, size] of units) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
  }
  return parts.length === 0 ? `${seconds.toFixed(1)}s` : parts.slice(0, 2).join(' ');
}

function scopeAndTarget(sub: string | undefined, target: string | undefined): { scope: string; target?: string } {
  if (sub !== 'global' && sub !== 'team' && sub !== 'agent') throw new UsageError(sub ? `unknown scope "${sub}" (global, team, agent)` : 'missing scope (global, team, agent)');
  if (sub !== 'global' && !target) throw new UsageError(`${sub} needs a name`);
  return sub === 'global' ? { scope: sub } : { scope: sub, target: target! };
}

export async function killCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(KILL_HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub, name] = positionals;
  if (sub === 'list') {
    const data = await call(controlTarget(values), 'GET', '/kill');
    const rows = (data.switches as SwitchView[]).map(describe);
    out(data, rows.length ? rows.join('\n') : '(no kill switch engaged)');
    return 0;
  }
  const body = { ...scopeAndTarget(sub, name), ...(values.reason ? { reason: values.reason } : {}) };
  const data = (await call(controlTarget(values), 'POST', '/kill', body)) as SwitchView;
  out(data, `killed ${describe(data)}`);
  return 0;
}

export async function unkillCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: OPTIONS });
  if (values.help) {
    process.stdout.write(UNKILL_HELP);
    return 0;
  }
  const { scope, target } = scopeAndTarget(positionals[0], positionals[1]);
  const data = await call(controlTarget(values), 'DELETE', `/kill/${scope}${target ? `/${encodeURIComponent(target)}` : ''}`);
  printer(values.json)(data, describeRelease(data as ReleaseView));
  return 0;
}
