// Whether this host can run BPF enforcement, and where its cgroup v2 hierarchy is.
import { existsSync, readFileSync, statfsSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { isAbsolute } from 'node:path';
import { bpfUnsupportedReason } from './binding.js';
import { invalid } from './errors.js';

const CGROUP2_SUPER_MAGIC = 0x63677270;
export const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';

// Loading needs CAP_BPF+CAP_PERFMON or CAP_SYS_ADMIN, cgroup attachment CAP_NET_ADMIN, and
// entering a pod's network namespace CAP_SYS_ADMIN: root or a privileged DaemonSet pod.
const NEEDED_CAPS = { CAP_NET_ADMIN: 12, CAP_SYS_ADMIN: 21 } as const;

function effectiveCaps(): bigint {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return line ? BigInt(`0x${line[1]}`) : 0n;
}

/** "\040" and friends in /proc/mounts are octal escapes of space, tab, newline, backslash. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
}

/** The cgroup v2 mount point from /proc/mounts (first one), or null when there is none. */
export function cgroup2Mount(mounts = '/proc/mounts'): string | null {
  let text: string;
  try {
    text = readFileSync(mounts, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [, dir, fstype] = line.split(' ');
    if (fstype === 'cgroup2' && dir) return unescapeMount(dir);
  }
  return null;
}

/** The id BPF sees for a cgroup v2 directory (bpf_get_current_cgroup_id): its inode number. */
export function cgroupId(path: string): bigint {
  if (typeof path !== 'string' || !isAbsolute(path)) throw invalid('path', `must be an absolute cgroup v2 directory, got ${String(path)}`);
  if (statfsSync(path).type !== CGROUP2_SUPER_MAGIC) throw invalid('path', `is not in a cgroup v2 hierarchy: ${path}`);
  return statSync(path, { bigint: true }).ino;
}

export type Availability = { ok: true } | { ok: false; reason: string; reasons: string[] };

/** Whether BPF enforcement can run in this process, and if not, every reason why. */
export function available(): Availability {
  const reasons: string[] = [];
  if (process.platform !== 'linux') return { ok: false, reason: `BPF needs Linux, this is ${process.platform}`, reasons: [`platform ${process.platform}`] };
  if (endianness() !== 'LE') reasons.push('the map encoders assume a little-endian host');
  const caps = effectiveCaps();
  const missing = Object.entries(NEEDED_CAPS).filter(([, bit]) => (caps & (1n << BigInt(bit))) === 0n).map(([name]) => name);
  if (missing.length > 0) reasons.push(`not root: missing ${missing.join(', ')}`);
  try {
    const why = bpfUnsupportedReason();
    if (why !== null) reasons.push(why);
  } catch (err) {
    reasons.push((err as Error).message);
  }
  if (!existsSync(VMLINUX_BTF)) reasons.push(`the kernel has no BTF (${VMLINUX_BTF}); CO-RE programs cannot load`);
  if (cgroup2Mount() === null) reasons.push('no cgroup2 hierarchy is mounted (/proc/mounts)');
  return reasons.length === 0 ? { ok: true } : { ok: false, reason: reasons.join('; '), reasons };
}
