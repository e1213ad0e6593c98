import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../agent/src/config/load.js';
import { startAgent, type RunningAgent, type StartOptions } from '../../agent/src/runtime.js';
import { patience, STAGE_TIMEOUT_MS } from './patience.js';
import { SimulatedProvider } from '../fixtures/simulator/index.js';

export const REAL_KEYS = {
  openai: 'sk-sim-openai-REAL-0001',
  anthropic: 'sk-ant-sim-REAL-0002',
  gemini: 'AIzaSim-REAL-0003',
  azure: 'azure-sim-REAL-0004',
  awsAccessKeyId: 'AKIASIMULATEDREAL005',
  awsSecret: 'sim/secret/REAL/0006',
};

/**
 * Fragments after a denied one: they keep the simulated provider streaming for seconds, so
 * a test can check that the cut aborted the upstream however loaded the machine is.
 */
export const CUT_TAIL: readonly string[] = Array.from({ length: 100 }, (_, i) => `tail${i} `);

export const ADMIN_TOKEN = 'altop-test-admin-token-0123456789';

export interface Harness {
  sim: SimulatedProvider;
  agent: RunningAgent;
  proxyUrl: string;
  controlUrl: string;
  /** Every log line the agent wrote, as text. */
  logs: string[];
  createKey(body: Record<string, unknown>): Promise<{ key: string; id: string }>;
  control(method: string, path: string, body?: unknown): Promise<Response>;
  /** A control-API call with another operator token. */
  controlAs(token: string, method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The agent's environment for governing through the simulated provider at `simUrl`: every
 * provider's base URL, the real keys of the credential lane, the admin token, and timeouts
 * sized for a loaded test machine. For an agent in this process or a child process.
 */
export function simulatorEnv(simUrl: string): Record<string, string> {
  return {
    ALTRACE_ADMIN_TOKEN: ADMIN_TOKEN,
    ALTRACE_OPENAI_BASE_URL: `${simUrl}/v1`,
    ALTRACE_ANTHROPIC_BASE_URL: simUrl,
    ALTRACE_GEMINI_BASE_URL: simUrl,
    ALTRACE_BEDROCK_BASE_URL: simUrl,
    AZURE_OPENAI_ENDPOINT: simUrl,
    OPENAI_API_KEY: REAL_KEYS.openai,
    ANTHROPIC_API_KEY: REAL_KEYS.anthropic,
    GEMINI_API_KEY: REAL_KEYS.gemini,
    AZURE_OPENAI_API_KEY: REAL_KEYS.azure,
    AWS_ACCESS_KEY_ID: REAL_KEYS.awsAccessKeyId,
    AWS_SECRET_ACCESS_KEY: REAL_KEYS.awsSecret,
    ALTRACE_UPSTREAM_HEADERS_TIMEOUT_MS: '3000',
    ALTRACE_UPSTREAM_BODY_TIMEOUT_MS: '3000',
    // A loaded test machine is slow, not broken: a 9 MB scan or a first tokenizer load can take
    // more than the 2 s production default there, and would fail closed. Timeout tests set their own.
    ALTRACE_STAGE_TIMEOUT_MS: String(STAGE_TIMEOUT_MS),
    // Tests poll the control API every 10 ms while they wait; the per-identity flood guard has its own test.
    ALTRACE_CONTROL_CALLS_PER_MINUTE: '0',
  };
}

/**
 * ALTRACE_TEST_SEAM=copied runs every in-process agent of a test run with its decisions sent
 * across the decider seam as the multi-loop messages (docs/scaling.md): the whole suite then
 * checks that the seam decides as one loop does.
 */
function seamUnderTest(): StartOptions {
  const seam = process.env.ALTRACE_TEST_SEAM;
  if (seam === undefined || seam === '') return {};
  if (seam !== 'copied' && seam !== 'direct') throw new Error(`ALTRACE_TEST_SEAM must be copied or direct, not ${seam}`);
  return { seam };
}

/**
 * ALTRACE_TEST_LOOPS=N runs every in-process agent of a test run on N data-plane loops
 * (listen.loops), unless a test sets its own, or its configuration has a stdio MCP server
 * (one loop only serves those: the agent refuses the combination at start).
 */
function loopsUnderTest(extraEnv: Record<string, string>): Record<string, string> {
  const loops = process.env.ALTRACE_TEST_LOOPS;
  if (!loops) return {};
  const config = extraEnv.ALTRACE_CONFIG;
  if (config && /transport:\s*stdio/.test(readFileSync(config, 'utf8'))) return {};
  return { ALTRACE_LOOPS: loops };
}

/** A simulated provider and an agent pointed at it, in this process, on free loopback ports;
 *  `options.clock` is the time the agent decides at (default: the system clock). */
export async function startHarness(extraEnv: Record<string, string> = {}, options: StartOptions = {}): Promise<Harness> {
  const sim = await new SimulatedProvider().start();
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-test-'));
  const env: Record<string, string> = {
    ALTRACE_PROXY_PORT: '0',
    ALTRACE_CONTROL_PORT: '0',
    ALTRACE_STATE_DIR: stateDir,
    ...simulatorEnv(sim.url),
    ...loopsUnderTest(extraEnv),
    ...extraEnv,
  };
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(String(chunk));
      cb();
    },
  });
  let agent: RunningAgent;
  try {
    agent = await startAgent(loadConfig({ env }), env, sink, { ...seamUnderTest(), ...options });
  } catch (err) {
    // An agent that refused to start leaves nothing behind either.
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
    throw err;
  }
  const proxyUrl = `http://127.0.0.1:${agent.proxyPort}`;
  const controlUrl = `http://127.0.0.1:${agent.controlPort}`;
  const controlAs = async (token: string, method: string, path: string, body?: unknown) => {
    const send = () =>
      fetch(`${controlUrl}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    try {
      return await send();
    } catch (err) {
      // A GET that met a kept-alive connection the server was closing just then (a loaded machine
      // stalls past the keep-alive margin): sent once more on a new connection, as SDKs retry it.
      if (method !== 'GET') throw err;
      return await send();
    }
  };
  const control = (method: string, path: string, body?: unknown) => controlAs(ADMIN_TOKEN, method, path, body);
  return {
    sim,
    agent,
    proxyUrl,
    controlUrl,
    logs,
    control,
    controlAs,
    async createKey(body) {
      const res = await control('POST', '/keys', body);
      if (res.status !== 201) throw new Error(`key create failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as { key: string; id: string };
    },
    async close() {
      await agent.close();
      await sim.close();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * Waits until `check` holds (polling), or fails, naming `what`, once `ms` (scaled by the
 * machine's load) have passed: a wait never ends quietly with the condition unmet.
 */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 2000, what = 'the awaited condition'): Promise<true> {
  const end = Date.now() + patience(ms);
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  if (await check()) return true;
  throw new Error(`${what} did not hold within ${patience(ms)} ms`);
}
