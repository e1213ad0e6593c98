import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace bpf — node enforcement in the kernel

Usage:
  altrace bpf status
  altrace bpf ca

status   the programs attached and their kernel ids, the governed cgroup, the transparent
         listener the kernel redirects to, the AI destination set, counters (redirects,
         kill refusals, UDP refusals, events, ring-buffer drops, sockets destroyed), and
         workloads and shadow agents seen.
ca       the node CA certificate (PEM): install it in an agent's trust store (e.g.
         NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) so its TLS to providers is terminated and governed.
Options: --json, --url URL, --token TOKEN (admin).
`;

interface Status {
  enforcement: string;
  cgroup?: string;
  proxy?: { address: string; port: number } | null;
  programs?: { name: string; section: string; id: number }[];
  destinations?: { provider: string; address: string; port: number }[];
  stats?: Record<string, number>;
  maps?: Record<string, number>;
  events_seen?: number;
  workloads?: number;
  shadow_agents?: number;
  killed_cgroups?: string[];
  global_kill?: boolean;
}

function text(s: Status): string {
  if (s.enforcement === 'off') return 'node enforcement is off (node.enforcement: off); only agents that use the proxy as their base URL are governed';
  const lines = [
    `enforcement   ${s.enforcement}${s.global_kill ? '  GLOBAL KILL ENGAGED' : ''}`,
    `cgroup        ${s.cgroup}`,
    `redirects to  ${s.proxy ? `${s.proxy.address}:${s.proxy.port}` : '(none: AI-bound connects fail closed)'}`,
    `programs      ${(s.programs ?? []).map((p) => `${p.name}#${p.id}`).join(' ')}`,
    `destinations  ${s.destinations?.length ?? 0}: ${(s.destinations ?? []).map((d) => `${d.provider}=${d.address}:${d.port}`).join(' ')}`,
    `maps          ${Object.entries(s.maps ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `counters      ${Object.entries(s.stats ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `events seen   ${s.events_seen}  workloads ${s.workloads}  shadow agents ${s.shadow_agents}  killed cgroups ${s.killed_cgroups?.length ?? 0}`,
  ];
  return lines.join('\n');
}

export async function bpfCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { ...CONTROL_OPTIONS } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [sub] = positionals;
  if (sub === 'ca') {
    const data = (await call(controlTarget(values), 'GET', '/node/ca')) as { pem: string };
    printer(values.json)(data, data.pem.trimEnd());
    return 0;
  }
  if (sub !== 'status') throw new UsageError(sub ? `unknown bpf command ${sub}` : 'bpf needs a command: status or ca');
  const data = (await call(controlTarget(values), 'GET', '/node')) as unknown as Status;
  printer(values.json)(data as never, text(data));
  return 0;
}
