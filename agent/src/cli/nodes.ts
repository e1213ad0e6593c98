import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace nodes — the fleet's node agents and their enrollment tokens (admin token required)

Usage:
  altrace nodes [list]                               every enrolled node: version, last contact, lag, leases
  altrace nodes remove ID                            refuse the node's certificate from now on
  altrace nodes token create NAME [--ttl-hours N]    a token nodes enroll with (N from 1 to 8760, default 24)
  altrace nodes token list
  altrace nodes token delete NAME

Run against a control plane's control API (--url). A node enrolls on its fleet port with
  ALTRACE_BOOTSTRAP_TOKEN=<token> altrace start --control-plane https://HOST:7443
A token enrolls any number of nodes until it expires or is deleted; it is printed once.
LAG is how many changes a node has yet to apply. Options: --json, --url URL, --token TOKEN.
`;

interface NodeRow {
  id: string;
  name: string;
  version: string | null;
  last_contact: string | null;
  cert_expires: string;
  applied_version: number;
  lag: number | null;
  removed: string | null;
  leases_usd: number;
}

interface TokenRow {
  name: string;
  created: string;
  expires: string | null;
  created_by: string;
}

/** fleet.listen_port's default (policies/config.schema.json). */
const FLEET_PORT = 7443;

const HEADER = ['NAME', 'ID', 'VERSION', 'LAST-CONTACT', 'APPLIED', 'LAG', 'LEASES', 'CERT-EXPIRES'];

function nodeCells(n: NodeRow): string[] {
  const name = n.removed ? `${n.name} (removed)` : n.name;
  return [name, n.id, n.version ?? '-', n.last_contact ?? 'never', String(n.applied_version), n.lag === null ? '-' : String(n.lag), `$${n.leases_usd.toFixed(2)}`, n.cert_expires];
}

/** Columns as wide as their widest cell, two spaces apart. */
function table(rows: string[][]): string {
  const widths = rows[0]!.map((_c, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function tokenLine(t: TokenRow): string {
  const expired = t.expires !== null && Date.parse(t.expires) <= Date.now() ? ' (expired)' : '';
  return `${t.name}  expires ${t.expires ?? 'never'}${expired}  by ${t.created_by}`;
}

function ttlHours(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 1 || n > 8760) throw new UsageError('--ttl-hours must be a number of hours from 1 to 8760');
  return n;
}

async function tokenCommand(values: { json?: boolean; url?: string; token?: string; 'ttl-hours'?: string }, sub: string | undefined, name: string | undefined): Promise<number> {
  const out = printer(values.json);
  switch (sub) {
    case 'create': {
      if (!name) throw new UsageError('token create needs a NAME');
      const ttl = ttlHours(values['ttl-hours']);
      const target = controlTarget(values);
      const data = await call(target, 'POST', '/nodes/tokens', { name, ...(ttl !== undefined ? { ttl_hours: ttl } : {}) });
      // Nodes enroll on the fleet port, not on the control API this CLI talks to.
      const fleetUrl = `https://${new URL(target.url).hostname}:${FLEET_PORT}`;
      out(data, `${data.token}\n(enrollment token ${data.name}, expires ${data.expires}; shown once)\nOn each node: ALTRACE_BOOTSTRAP_TOKEN=${data.token} altrace start --control-plane ${fleetUrl}\n(${FLEET_PORT} is the control plane's default fleet.listen_port)`);
      return 0;
    }
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/nodes/tokens');
      out(data, (data.tokens as TokenRow[]).map(tokenLine).join('\n') || '(no enrollment tokens)');
      return 0;
    }
    case 'delete': {
      if (!name) throw new UsageError('token delete needs a NAME');
      const data = await call(controlTarget(values), 'DELETE', `/nodes/tokens/${encodeURIComponent(name)}`);
      out(data, `deleted enrollment token ${data.deleted.name}`);
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown token subcommand "${sub}"` : 'missing token subcommand (create, list, delete)');
  }
}

export async function nodesCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { 'ttl-hours': { type: 'string' }, ...CONTROL_OPTIONS } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const out = printer(values.json);
  const [sub, arg, arg2] = positionals;
  switch (sub) {
    case undefined:
    case 'list': {
      const data = await call(controlTarget(values), 'GET', '/nodes');
      const nodes = data.nodes as NodeRow[];
      out(data, nodes.length ? table([HEADER, ...nodes.map(nodeCells)]) : '(no nodes enrolled)');
      return 0;
    }
    case 'remove': {
      if (!arg) throw new UsageError('remove needs a node ID');
      const data = await call(controlTarget(values), 'DELETE', `/nodes/${encodeURIComponent(arg)}`);
      out(data, `removed node ${data.removed.name} (${data.removed.id}); its certificate is refused from now on`);
      return 0;
    }
    case 'token':
      return await tokenCommand(values, arg, arg2);
    default:
      throw new UsageError(`unknown subcommand "${sub}"`);
  }
}
