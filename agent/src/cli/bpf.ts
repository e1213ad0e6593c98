import { parseArgs } from 'node:util';
import { UsageError } from '../errors.js';
import { CONTROL_OPTIONS, call, controlTarget, printer } from './client.js';

const HELP = `altrace bpf — node enforcement in the kernel

Usage:
  altrace bpf status
  altrace bpf ca
  altrace bpf cilium-policy --namespace NS [--allow CIDR|FQDN[:PORTS]]... (see altrace bpf cilium-policy --help)
  altrace bpf uninstall --pin-dir DIR

status   the programs attached and their kernel ids, the governed cgroup, the transparent
         listener the kernel redirects to, the AI destination set (each net and why it is
         there: resolved, observed in a pod's DNS answer, published, configured), the packet
         backstop's interfaces, strict mode, counters (redirects, kill refusals, UDP refusals,
         packets dropped by the backstop, strict refusals, events, ring-buffer drops, sockets
         destroyed), and every workload seen: its cgroup, the agent it is bound to (or that it
         is a shadow agent), whether it is killed, bypass attempts, and a warning where its
         processes hold CAP_NET_RAW or CAP_NET_ADMIN.
uninstall
         remove the programs and maps an agent left pinned (node.pin_dir): after the agents
         are gone, never during an upgrade (see altrace bpf uninstall --help).
cilium-policy
         strict mode as a CiliumNetworkPolicy for a namespace (offline): egress only to the
         node proxy, cluster DNS and the declared destinations.
ca       the node CA certificate (PEM): install it in an agent's trust store (e.g.
         NODE_EXTRA_CA_CERTS, SSL_CERT_FILE) so its TLS to providers is terminated and governed.
Options: --json, --url URL, --token TOKEN (admin).
`;

interface Workload {
  id: string;
  cgroup: string | null;
  cgroup_id: string;
  agent: string | null;
  team: string | null;
  comm: string;
  killed?: boolean;
  bypass_attempts?: number;
  capabilities?: { net_raw: boolean; net_admin: boolean } | null;
  address?: string;
}

interface Status {
  enforcement: string;
  cgroup?: string;
  proxy?: { address: string; port: number } | null;
  programs?: { name: string; section: string; id: number }[];
  destinations?: { provider: string; net: string; source: string }[];
  backstop?: { patterns: string[]; interfaces: { ifindex: number; name: string | null; strict: boolean }[] };
  strict?: { cgroups: string[]; interfaces: string[]; allow: string[] };
  stats?: Record<string, number>;
  maps?: Record<string, number>;
  events_seen?: number;
  workloads?: Workload[] | number;
  shadow_agents?: Workload[] | number;
  killed_cgroups?: string[];
  global_kill?: boolean;
  capability_warnings?: string[];
}

function workloadLine(w: Workload): string {
  const caps = [w.capabilities?.net_raw ? 'CAP_NET_RAW' : '', w.capabilities?.net_admin ? 'CAP_NET_ADMIN' : ''].filter(Boolean).join(',');
  const who = w.agent ? `agent ${w.agent} (team ${w.team})` : 'SHADOW';
  return `  ${w.id}  ${who}  ${w.cgroup ?? w.address ?? `cgroup ${w.cgroup_id}`}  ${w.comm}${w.killed ? '  KILLED' : ''}${w.bypass_attempts ? `  bypass attempts ${w.bypass_attempts}` : ''}${caps ? `  WARNING holds ${caps}` : ''}`;
}

function text(s: Status): string {
  if (s.enforcement === 'off') return 'node enforcement is off (node.enforcement: off); only agents that use the proxy as their base URL are governed';
  const lines = [
    `enforcement   ${s.enforcement}${s.global_kill ? '  GLOBAL KILL ENGAGED' : ''}`,
    `cgroup        ${s.cgroup}`,
    `redirects to  ${s.proxy ? `${s.proxy.address}:${s.proxy.port}` : '(none: AI-bound connects fail closed)'}`,
    `programs      ${(s.programs ?? []).map((p) => `${p.name}#${p.id}`).join(' ')}`,
    `destinations  ${s.destinations?.length ?? 0}: ${(s.destinations ?? []).map((d) => `${d.provider}=${d.net}(${d.source})`).join(' ')}`,
    `backstop      ${s.backstop ? (s.backstop.interfaces.length > 0 ? s.backstop.interfaces.map((i) => `${i.name ?? i.ifindex}${i.strict ? '(strict)' : ''}`).join(' ') : `no interface matches ${s.backstop.patterns.join(',') || '(none configured: OFF)'}`) : '-'}`,
    `strict        ${s.strict && s.strict.cgroups.length + s.strict.interfaces.length > 0 ? `cgroups ${s.strict.cgroups.join(',') || '-'}  interfaces ${s.strict.interfaces.join(',') || '-'}  allow ${s.strict.allow.join(',') || '-'}` : 'off'}`,
    `maps          ${Object.entries(s.maps ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`,
    `counters      ${Object.entries(s.stats ?? {}).map(([k, v]) => `${k}=${v}`).join(' ')}`,
  ];
  const workloads = Array.isArray(s.workloads) ? s.workloads : [];
  const shadows = Array.isArray(s.shadow_agents) ? s.shadow_agents.length : s.shadow_agents ?? 0;
  lines.push(`events seen   ${s.events_seen}  workloads ${workloads.length || s.workloads}  shadow agents ${shadows}  killed cgroups ${s.killed_cgroups?.length ?? 0}`);
  if (workloads.length > 0) lines.push('workloads', ...workloads.map(workloadLine));
  if ((s.capability_warnings ?? []).length > 0) lines.push(`WARNING: ${s.capability_warnings!.length} governed workload(s) hold CAP_NET_RAW/CAP_NET_ADMIN: raw and packet sockets pass the socket programs (only the packet backstop stops them); drop the capabilities (docs/bypass.md)`);
  return lines.join('\n');
}

export async function bpfCommand(args: string[]): Promise<number> {
  // Offline, with options of its own: before the control-API options are parsed.
  if (args[0] === 'cilium-policy') return (await import('./bpf-cilium.js')).ciliumPolicyCommand(args.slice(1));
  if (args[0] === 'uninstall') return (await import('./bpf-uninstall.js')).bpfUninstallCommand(args.slice(1));
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
