import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { STAGE_TIMEOUT_MS } from './patience.js';

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

/** Agents spawned by this process and not exited yet: what a harness kills when its process ends without cleaning up. */
export const runningAgents = new Set<ChildProcess>();

/** Variables for a child process; an undefined one is removed from the inherited environment. */
export type ChildEnv = Record<string, string | undefined>;

/**
 * `altrace start` as its own process; resolves once it printed where it listens. Its log (JSON
 * lines on stdout) is dropped unless `logs` is given to collect it.
 */
export async function spawnAgent(env: ChildEnv, logs?: string[]): Promise<AgentProcess> {
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, BIN, 'start'], {
    env: { ...process.env, ...AGENT_ENV, ALTRACE_PROXY_PORT: '0', ALTRACE_CONTROL_PORT: '0', ALTRACE_LOG_LEVEL: 'warn', ALTRACE_STAGE_TIMEOUT_MS: String(STAGE_TIMEOUT_MS), ...env },
    stdio: ['ignore', logs ? 'pipe' : 'ignore', 'pipe'],
  });
  if (logs) createInterface({ input: child.stdout! }).on('line', (line) => logs.push(line));
  runningAgents.add(child);
  child.once('exit', () => runningAgents.delete(child));
  const stderr: string[] = [];
  let proxyUrl = '';
  let controlUrl = '';
  const exited = once(child, 'exit');
  // A listener for the whole life of the child: it never blocks on a full pipe, and every line,
  // the banner's last ones included, lands in `stderr` (a second async iterator would miss them).
  const lines = createInterface({ input: child.stderr! });
  const started = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      stderr.push(line);
      const proxy = /^\s+proxy\s+(http:\/\/\S+)/.exec(line);
      if (proxy) proxyUrl = proxy[1]!;
      const control = /^\s+control API\s+(https?:\/\/\S+)\/api\/v1/.exec(line);
      if (control) controlUrl = control[1]!;
      if (proxyUrl && controlUrl) resolve();
    });
  });
  await Promise.race([started, exited.then(() => Promise.reject(new Error(`altrace start exited early:\n${stderr.join('\n')}`)))]);
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

/** Runs one `altrace` CLI command to completion (in `cwd`, default this process's). */
export async function runCli(args: string[], env: ChildEnv = {}, cwd?: string): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  // 'close', not 'exit': the process can exit before its output has been read from the pipes.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
