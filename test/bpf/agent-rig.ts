// An agent in bpf mode governing a test cgroup, its transparent listener on the pod link, for
// the rigs that need one started their own way (pinned maps, a restart, strict mode).
import { execFileSync, spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnAgent, type AgentProcess } from '../helpers/process.js';
import type { Link } from './netns.js';
import type { Cleanup } from './rig.js';

const SIM = new URL('../fixtures/simulator/main.js', import.meta.url).pathname;
export const SIM_PORT = 8443;

/** The simulated provider in the provider's namespace, stopped by `cleanup`. */
export async function startSimulator(provider: Link, cleanup: Cleanup, host = provider.address): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn('ip', ['netns', 'exec', provider.netns, process.execPath, SIM, '--host', host, '--port', String(SIM_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanup.add(async () => {
    if (proc.exitCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  });
  const [line] = (await once(createInterface({ input: proc.stdout! }), 'line')) as [string];
  return { url: (JSON.parse(line) as { url: string }).url, proc };
}

export const RIG_ADMIN = 'admin-token-for-the-bpf-rigs-0001';
export const RIG_REAL_KEY = 'sk-real-key-of-the-bpf-rigs';

export interface RigAgent {
  agent: AgentProcess;
  /** The agent's log lines (JSON), for a failing test to show. */
  logs: string[];
  dir: string;
  control(path: string, init?: RequestInit): Promise<Response>;
  /** Stops this agent and starts another on the same state (and pin) directories. */
  restart(): Promise<void>;
}

/** A bpffs mounted on a temporary directory, unmounted (its pins, and the links they hold, gone) by cleanup. */
export function mountBpffs(cleanup: Cleanup): string {
  const mount = mkdtempSync(join(tmpdir(), 'altrace-rig-bpffs-'));
  cleanup.add(() => rmdirSync(mount));
  execFileSync('mount', ['-t', 'bpf', 'bpf', mount]);
  cleanup.add(() => {
    for (const f of readdirSync(mount)) if (f.startsWith('alt_') || f.startsWith('link-')) rmSync(join(mount, f));
    execFileSync('umount', [mount]);
  });
  return mount;
}

export async function startRigAgent(
  cleanup: Cleanup,
  o: { cgroup: string; pod: Link; simUrl: string; config?: string[]; env?: Record<string, string | undefined>; mode?: 'bpf' | 'nftables' },
): Promise<RigAgent> {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-bpf-rig-'));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'state'));
  const config = join(dir, 'altrace.yaml');
  const mode = o.mode ?? 'bpf';
  writeFileSync(config, ['node:', `  enforcement: ${mode}`, mode === 'bpf' ? `  cgroup: ${o.cgroup}` : (o.config ?? []).some((l) => l.startsWith('  interfaces:')) ? '' : `  interfaces: [${o.pod.nodeInterface}]`, `  transparent_host: ${o.pod.nodeAddress}`, '  transparent_port: 0', ...(o.config ?? []), ''].join('\n'));
  // After the agent has stopped (cleanup runs newest first): it removes its rules itself, but one that died leaves them behind.
  if (mode === 'nftables') cleanup.add(() => void spawnSync('/usr/sbin/nft', ['delete', 'table', 'inet', 'altrace'], { stdio: 'ignore' }));
  const env = {
    ALTRACE_CONFIG: config,
    ALTRACE_STATE_DIR: join(dir, 'state'),
    ALTRACE_ADMIN_TOKEN: RIG_ADMIN,
    ALTRACE_OPENAI_BASE_URL: `${o.simUrl}/v1`,
    OPENAI_API_KEY: RIG_REAL_KEY,
    ...o.env,
  };
  const logs: string[] = [];
  const rig: RigAgent = {
    agent: await spawnAgent(env, logs),
    logs,
    dir,
    control: (path, init = {}) => fetch(`${rig.agent.controlUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${RIG_ADMIN}`, 'content-type': 'application/json' } }),
    restart: async () => {
      await rig.agent.stop();
      rig.agent = await spawnAgent(env, logs);
    },
  };
  cleanup.add(() => rig.agent.stop());
  return rig;
}
