// A fleet on this machine: control-plane replicas and node agents as their own processes, on
// one real PostgreSQL, the nodes governing through the simulated provider of this process.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { PostgresServer } from '../fixtures/postgres.js';
import { SimulatedProvider } from '../fixtures/simulator/index.js';
import { ADMIN_TOKEN, eventually, simulatorEnv } from './harness.js';
import { Agent, fetch as undiciFetch } from 'undici';
import { AGENT_ENV, AGENT_NODE_FLAGS, ROOT, runningAgents, spawnAgent, type AgentProcess, type ChildEnv } from './process.js';

export const FLEET_CA_KEY = 'test-fleet-ca-sealing-secret-0123456789abcdef';

export interface ReplicaProcess {
  child: ChildProcess;
  controlUrl: string;
  fleetUrl: string;
  stderr: string[];
  /** Its log: the JSON lines it wrote to stdout. */
  logs: string[];
  stop(): Promise<void>;
  /** SIGKILL: no goodbye to its node streams. */
  kill(): Promise<void>;
  /** SIGSTOP: its sockets stay open and nothing answers on them, as in a partition or a hung VM. */
  pause(): void;
  /** SIGCONT after pause(). */
  resume(): void;
}

/** Fleet directories not closed yet; with runningAgents, what the test process removes if it ends without close(). */
const leftBehind = new Set<() => void>();
let exitHooked = false;

/**
 * When a test process ends without close() (ava's timeout ends its worker, after.always hooks
 * unrun; a signal), its replicas and nodes are SIGKILLed and their directories removed, as
 * test/fixtures/postgres.ts does for its servers.
 */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  const cleanUp = () => {
    for (const child of runningAgents) child.kill('SIGKILL');
    for (const remove of leftBehind) remove();
    leftBehind.clear();
  };
  process.once('exit', cleanUp);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanUp();
      process.removeListener(signal, onSignal);
      // Another hook (the PostgreSQL fixture's) raises the signal again once it is done.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

/** `altrace control-plane` as its own process; resolves once it printed where it listens. */
export async function spawnReplica(env: ChildEnv): Promise<ReplicaProcess> {
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, join(ROOT, 'bin/altrace.js'), 'control-plane', ...(env.CA_OUT ? ['--ca-out', env.CA_OUT] : [])], {
    env: { ...process.env, ...AGENT_ENV, ALTRACE_CONTROL_PORT: '0', ALTRACE_FLEET_PORT: '0', ALTRACE_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hookExit();
  runningAgents.add(child);
  child.once('exit', () => runningAgents.delete(child));
  const stderr: string[] = [];
  const logs: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => logs.push(line));
  let controlUrl = '';
  let fleetUrl = '';
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stderr! });
  const started = new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      stderr.push(line);
      const c = /^\s+control API\s+(https?:\/\/\S+)\/api\/v1/.exec(line);
      if (c) controlUrl = c[1]!;
      const f = /^\s+node stream\s+(https:\/\/\S+)/.exec(line);
      if (f) fleetUrl = f[1]!;
      if (controlUrl && fleetUrl) resolve();
    });
  });
  await Promise.race([started, exited.then(() => Promise.reject(new Error(`altrace control-plane exited early:\n${stderr.join('\n')}`)))]);
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    controlUrl,
    fleetUrl,
    stderr,
    logs,
    async stop() {
      if (gone()) return;
      // A paused process would take its SIGTERM only when continued.
      child.kill('SIGCONT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.kill('SIGTERM');
      await exited;
      clearTimeout(timer);
    },
    async kill() {
      if (gone()) return;
      child.kill('SIGKILL');
      await exited;
    },
    pause() {
      if (!gone()) child.kill('SIGSTOP');
    },
    resume() {
      if (!gone()) child.kill('SIGCONT');
    },
  };
}

/** A node agent of a fleet: its name, its state directory, and its log (JSON lines). */
export interface FleetNode extends AgentProcess {
  name: string;
  stateDir: string;
  logs: string[];
}

/** The log lines (parsed) whose `msg` is `msg`, optionally only those matching `where`. */
export function logLines(logs: readonly string[], msg: string, where: Record<string, unknown> = {}): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of logs) {
    if (!line.includes(msg)) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (o.msg === msg && Object.entries(where).every(([k, v]) => o[k] === v)) out.push(o);
  }
  return out;
}

/** A node's fleet gauges and counters from its /metrics (altrace_fleet_stale, _stream_up, _reconnects_total, _applied_version …). */
export async function fleetMetrics(node: { controlUrl: string }): Promise<Record<string, number>> {
  const text = await (await fetch(`${node.controlUrl}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(altrace_fleet_[a-z_]+(?:\{[^}]*\})?) (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return out;
}

export interface Fleet {
  sim: SimulatedProvider;
  databaseUrl: string;
  caFile: string;
  replicas: ReplicaProcess[];
  nodes: FleetNode[];
  enrollmentToken: string;
  /** Calls a control API (a replica's or a node's) as the admin. */
  call(baseUrl: string, method: string, path: string, body?: unknown): Promise<Response>;
  /** A node agent following the replicas (its first choice is `first`); resolves once it is ready. */
  addNode(name: string, env?: ChildEnv, first?: number): Promise<FleetNode>;
  /**
   * Stops a node (SIGTERM: it writes its snapshot file) and starts it again on the same state
   * directory with the same settings and `env` over them; resolves once it is ready.
   */
  restartNode(node: FleetNode, env?: ChildEnv): Promise<FleetNode>;
  close(): Promise<void>;
}

/** Control APIs served over TLS (control.tls), and the fleet CA their certificates chain to. */
const httpsControl = new Map<string, Agent>();

export async function call(baseUrl: string, method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<Response> {
  const init = { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) };
  const dispatcher = httpsControl.get(baseUrl);
  if (dispatcher) return (await undiciFetch(`${baseUrl}/api/v1${path}`, { ...init, dispatcher })) as unknown as Response;
  return fetch(`${baseUrl}/api/v1${path}`, init);
}

/**
 * `replicas` control-plane replicas on a fresh database, then `nodes` nodes, node i preferring
 * replica i mod replicas. `together`: the replicas start at once rather than one after another
 * (both are safe: migrations and the CA's creation run under advisory locks).
 */
export async function startFleet(pg: PostgresServer, db: string, counts: { replicas: number; nodes: number; together?: boolean; replicaEnv?: ChildEnv }, nodeEnv: ChildEnv = {}): Promise<Fleet> {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-fleet-'));
  const sim = await new SimulatedProvider().start();
  const databaseUrl = await pg.createDatabase(db);
  const caFile = join(dir, 'fleet-ca.pem');
  const replicas: ReplicaProcess[] = [];
  const nodes: FleetNode[] = [];
  const envs = new Map<string, ChildEnv>();
  const launch = async (name: string, env: ChildEnv): Promise<FleetNode> => {
    const logs: string[] = [];
    const node = { ...(await spawnAgent(env, logs)), name, stateDir: env.ALTRACE_STATE_DIR!, logs };
    nodes.push(node);
    await eventually(async () => (await fetch(`${node.controlUrl}/readyz`)).status === 200, 10_000, `node ${name} ready (its first snapshot)`);
    return node;
  };
  const fleet: Fleet = {
    sim,
    databaseUrl,
    caFile,
    replicas,
    nodes,
    enrollmentToken: '',
    call,
    async addNode(name, env = {}, first = nodes.length) {
      const urls = replicas.map((_, i) => replicas[(i + first) % replicas.length]!.fleetUrl);
      const stateDir = join(dir, `node-${name}`);
      const all: ChildEnv = {
        ...simulatorEnv(sim.url),
        ALTRACE_STATE_DIR: stateDir,
        ALTRACE_CONTROL_PLANE: urls.join(','),
        ALTRACE_FLEET_CA_FILE: caFile,
        ALTRACE_NODE_NAME: name,
        ALTRACE_BOOTSTRAP_TOKEN: fleet.enrollmentToken,
        // A node's tokens come from its control plane: the harness's admin token is not its own.
        ALTRACE_ADMIN_TOKEN: undefined,
        ...nodeEnv,
        ...env,
      };
      envs.set(name, all);
      return launch(name, all);
    },
    async restartNode(node, env = {}) {
      await node.stop();
      return launch(node.name, { ...envs.get(node.name)!, ...env });
    },
    async close() {
      leftBehind.delete(onExit);
      await Promise.all(nodes.map((n) => n.stop()));
      await Promise.all(replicas.map((r) => r.stop()));
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  leftBehind.add(onExit);
  hookExit();
  try {
    const replicaEnv = (i: number): ChildEnv => ({ ALTRACE_DATABASE_URL: databaseUrl, ALTRACE_FLEET_CA_KEY: FLEET_CA_KEY, ALTRACE_ADMIN_TOKEN: ADMIN_TOKEN, ALTRACE_STATE_DIR: join(dir, `replica-${i}`), ALTRACE_FLEET_HEARTBEAT_MS: '200', ...(i === 0 ? { CA_OUT: caFile } : {}), ...counts.replicaEnv });
    if (counts.together) {
      const started = await Promise.allSettled(Array.from({ length: counts.replicas }, (_, i) => spawnReplica(replicaEnv(i))));
      // Those that started are closed by close() when another did not.
      for (const s of started) if (s.status === 'fulfilled') replicas.push(s.value);
      const failed = started.find((s) => s.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
    } else {
      for (let i = 0; i < counts.replicas; i++) replicas.push(await spawnReplica(replicaEnv(i)));
    }
    for (const r of replicas) if (r.controlUrl.startsWith('https:')) httpsControl.set(r.controlUrl, new Agent({ connect: { ca: readFileSync(caFile, 'utf8'), servername: 'localhost' } }));
    const res = await call(replicas[0]!.controlUrl, 'POST', '/nodes/tokens', { name: 'rig', ttl_hours: 1 });
    if (res.status !== 201) throw new Error(`enrollment token: ${res.status} ${await res.text()}`);
    fleet.enrollmentToken = ((await res.json()) as { token: string }).token;
    for (let i = 0; i < counts.nodes; i++) await fleet.addNode(`node-${i}`);
  } catch (err) {
    await fleet.close();
    throw err;
  }
  return fleet;
}
