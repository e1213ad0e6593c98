import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = new URL('../../../', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/altrace.js');

export interface AgentProcess {
  child: ChildProcess;
  proxyUrl: string;
  controlUrl: string;
  stderr: string[];
  /** SIGTERM and wait; SIGKILL after 5 s. */
  stop(): Promise<void>;
}

/** The node flags `npm start` and the `altrace` shebang run the agent with (package.json, bin/altrace.js). */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=8', '--enable-experimental-regexp-engine-on-excessive-backtracks'];
export const AGENT_ENV = { MALLOC_ARENA_MAX: '2' };

/** `altrace start` as its own process; resolves once it printed where it listens. */
export async function spawnAgent(env: Record<string, string>): Promise<AgentProcess> {
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, BIN, 'start'], {
    env: { ...process.env, ...AGENT_ENV, ALTRACE_PROXY_PORT: '0', ALTRACE_CONTROL_PORT: '0', ALTRACE_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const stderr: string[] = [];
  let proxyUrl = '';
  let controlUrl = '';
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stderr! });
  const started = (async () => {
    for await (const line of lines) {
      stderr.push(line);
      const proxy = /^\s+proxy\s+(http:\/\/\S+)/.exec(line);
      if (proxy) proxyUrl = proxy[1]!;
      const control = /^\s+control API\s+(http:\/\/\S+)\/api\/v1/.exec(line);
      if (control) controlUrl = control[1]!;
      if (proxyUrl && controlUrl) return;
    }
  })();
  await Promise.race([started, exited.then(() => Promise.reject(new Error(`altrace start exited early:\n${stderr.join('\n')}`)))]);
  // Keep draining stderr so the child never blocks on a full pipe.
  void (async () => {
    for await (const line of lines) stderr.push(line);
  })().catch(() => {});
  return {
    child,
    proxyUrl,
    controlUrl,
    stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one `altrace` CLI command to completion. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}
