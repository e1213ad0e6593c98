// Issue 18, "fail closed everywhere": a bounded, seeded stream of generated cases over every
// path and protocol of both ports — HTTP/1.1 and HTTP/2 requests with mutated bodies, keys,
// headers and paths, raw sockets with malformed HTTP, the control API — against the agent as
// its own process, in front of the simulated provider and a real MCP server. No 5xx but the
// upstream failures a case scripted, every error JSON with an ALT_* reason, no key or stack
// trace in any answer, and the agent healthy throughout (see test/fixtures/fuzz/judge.ts).
//   ALTRACE_FUZZ_SEED (default 1), ALTRACE_FUZZ_CASES (default 3000),
//   ALTRACE_FUZZ_ONLY=12,345 runs those case indexes alone.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { SimulatedProvider } from '../fixtures/simulator/index.js';
import { McpTestServer } from '../fixtures/mcp-server.js';
import { CASE_HEADER, generateCase, type Credentials, type FuzzCase } from '../fixtures/fuzz/cases.js';
import { judge, type Outcome, type Problem } from '../fixtures/fuzz/judge.js';
import { validRequest } from '../fixtures/fuzz/grammar.js';
import { KNOWN_OPEN } from '../fixtures/fuzz/known-open.js';
import { Rng } from '../fixtures/fuzz/rng.js';
import { send, type Ports } from '../fixtures/fuzz/send.js';
import { Witness } from '../fixtures/fuzz/witness.js';
import { ADMIN_TOKEN, REAL_KEYS, simulatorEnv } from '../helpers/harness.js';
import { patience } from '../helpers/patience.js';
import { shippedPolicy } from '../helpers/policy.js';
import { spawnAgent, type AgentProcess } from '../helpers/process.js';

const SEED = Number(process.env.ALTRACE_FUZZ_SEED ?? 1);
const CASES = Number(process.env.ALTRACE_FUZZ_CASES ?? 3000);
const ONLY = process.env.ALTRACE_FUZZ_ONLY?.split(',').map(Number);
/** Requests in flight at once: enough to overlap, few enough for a loaded 2-core machine. */
const CONCURRENCY = 8;
/** Cases between two health checks. */
const BATCH = 100;
const SECRETS = Object.values(REAL_KEYS);
const MCP_SERVER = 'tools';

const dir = mkdtempSync(join(tmpdir(), 'altrace-fuzz-'));
const sim = await new SimulatedProvider().start();
const mcp = await new McpTestServer().start();
const mcpWitness = await new Witness().start(mcp.url);
const agents: AgentProcess[] = [];

test.after.always(async () => {
  for (const a of agents) await a.stop();
  await sim.close();
  await mcpWitness.close();
  await mcp.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `altrace start` as its own process, governing the simulated provider and the MCP server. */
async function startAgent(name: string, env: Record<string, string>): Promise<AgentProcess> {
  const policy = shippedPolicy();
  policy.destinations.upstreams.push(`mcp:${MCP_SERVER}`);
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ mcp: { servers: [{ name: MCP_SERVER, url: mcpWitness.url }] } }));
  const agent = await spawnAgent({
    ...simulatorEnv(sim.url),
    ALTRACE_STATE_DIR: join(dir, name),
    ALTRACE_CONFIG: join(dir, 'config.yaml'),
    ALTRACE_POLICY: join(dir, 'policy.yaml'),
    ...env,
  });
  agents.push(agent);
  return agent;
}

async function control(agent: AgentProcess, method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(`${agent.controlUrl}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const json = await res.json();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const ports = (a: AgentProcess): Ports => ({ proxy: Number(new URL(a.proxyUrl).port), control: Number(new URL(a.controlUrl).port) });
const alive = (a: AgentProcess) => a.child.exitCode === null && a.child.signalCode === null;
const reproduce = (index: number) => `ALTRACE_FUZZ_SEED=${SEED} ALTRACE_FUZZ_ONLY=${index} npx ava dist/test/e2e/fuzz.test.js`;

/** The agent is up, its control port answers, and a known-good request goes through the OpenAI SDK. */
async function healthCheck(agent: AgentProcess, client: OpenAI, n: number, after: string): Promise<void> {
  if (!alive(agent)) throw new Error(`the agent exited (${agent.child.exitCode ?? agent.child.signalCode}) ${after}:\n${agent.stderr.slice(-20).join('\n')}`);
  const health = await fetch(`${agent.controlUrl}/healthz`);
  if (health.status !== 200) throw new Error(`GET /healthz answered ${health.status} ${after}`);
  await health.text();
  try {
    const done = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `health check ${n}` }] });
    if (!done.choices[0]?.message.content) throw new Error('an empty answer');
  } catch (err) {
    throw new Error(`the known-good request failed ${after}: ${(err as Error).message}`);
  }
}

interface Finding {
  c: FuzzCase;
  problems: Problem[];
  outcome: Outcome;
}

function describe(f: Finding): string {
  return [
    `case ${f.c.index}: ${f.c.what.join(' · ')}`,
    ...f.problems.map((p) => `  - ${p.code}: ${p.message}`),
    `  reproduce: ${reproduce(f.c.index)}`,
  ].join('\n');
}

test.serial(`fuzz: seeded cases over every path and protocol get no 5xx, JSON errors with reasons, and a healthy agent (seed ${SEED})`, async (t) => {
  t.timeout(patience(180_000));
  const agent = await startAgent('fuzz', {
    // Most cases present some key; the throttle would turn everything after the first minute into 429s (its own test is below).
    ALTRACE_AUTH_FAILURES_PER_MINUTE: '100000000',
    ALTRACE_HEADERS_TIMEOUT_MS: '2000',
    ALTRACE_REQUEST_TIMEOUT_MS: '10000',
  });
  const keyOf = async (agentName: string, team: string) => (await control(agent, 'POST', '/keys', { agent: agentName, team })).key as string;
  const creds: Credentials = {
    keys: [await keyOf('fz-a', 'fz-1'), await keyOf('fz-b', 'fz-1'), await keyOf('fz-c', 'fz-2')],
    revokedKey: '',
    killedKey: await keyOf('fz-killed', 'fz-3'),
    realKey: REAL_KEYS.openai,
    adminToken: ADMIN_TOKEN,
    teamToken: (await control(agent, 'POST', '/tokens', { name: 'fz-operator', team: 'fz-1' })).token,
    mcpServer: MCP_SERVER,
  };
  const revoked = await control(agent, 'POST', '/keys', { agent: 'fz-revoked', team: 'fz-3' });
  creds.revokedKey = revoked.key;
  await control(agent, 'DELETE', `/keys/${revoked.id}`);
  await control(agent, 'POST', '/kill', { scope: 'agent', target: 'fz-killed' });
  const health = new OpenAI({ apiKey: await keyOf('health-bot', 'health'), baseURL: `${agent.proxyUrl}/v1`, maxRetries: 0 });
  sim.recordLimit = 10_000;

  const indexes = ONLY ?? Array.from({ length: CASES }, (_, i) => i);
  const timeoutMs = patience(20_000);
  const failures: Finding[] = [];
  const knownOpen = new Map<string, number[]>();
  const started = Date.now();
  const slow: string[] = [];

  const run = async (c: FuzzCase) => {
    if (c.upstream) sim.next(c.upstream);
    const sentAt = Date.now();
    const outcome = await send(c, ports(agent), timeoutMs);
    if (Date.now() - sentAt > 2000) slow.push(`${c.index} (${Date.now() - sentAt} ms: ${c.what.join(' · ')})`);
    const id = String(c.index);
    const witnessed = mcpWitness.seen.has(id) || sim.received.some((r) => r.headers[CASE_HEADER] === id);
    const problems = judge(c, outcome, { secrets: SECRETS, witnessed });
    if (problems.length === 0) return;
    const known = problems.map((p) => KNOWN_OPEN.find((k) => k.matches(c, p, outcome)));
    if (known.every(Boolean)) {
      for (const k of new Set(known)) knownOpen.set(k!.id, [...(knownOpen.get(k!.id) ?? []), c.index]);
      return;
    }
    failures.push({ c, problems: problems.filter((_, i) => !known[i]), outcome });
  };

  for (let from = 0; from < indexes.length; from += BATCH) {
    const batch = indexes.slice(from, from + BATCH).map((i) => generateCase(SEED, i, creds));
    // Cases that script the upstream run alone: the simulated provider's script queue is shared.
    const shared = batch.filter((c) => !c.upstream);
    let next = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (next < shared.length) await run(shared[next++]!);
    }));
    for (const c of batch.filter((b) => b.upstream)) {
      await run(c);
      sim.reset();
    }
    sim.received.length = 0;
    mcpWitness.seen.clear();
    await healthCheck(agent, health, from, `after cases ${batch[0]!.index}–${batch[batch.length - 1]!.index} (seed ${SEED})`);
    if (failures.length >= 25) break;
  }
  await healthCheck(agent, health, -1, `at the end (seed ${SEED})`);

  t.log(`seed ${SEED}: ${indexes.length} cases in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (slow.length) t.log(`slow cases: ${slow.join(', ')}`);
  for (const [id, cases] of knownOpen) {
    const k = KNOWN_OPEN.find((e) => e.id === id)!;
    t.log(`known-open ${id} (waits on ${k.waitsOn}): ${cases.length} cases, e.g. ${reproduce(cases[0]!)}`);
  }
  if (failures.length > 0) {
    t.fail(`seed ${SEED}: ${failures.length} failing case(s)${failures.length >= 25 ? ' (stopped at 25)' : ''}:\n${failures.slice(0, 25).map(describe).join('\n')}`);
  } else t.pass();
});

test.serial(`fuzz: once a source spends the failed-auth budget, every path and protocol answers 429 JSON ALT_AUTH_THROTTLED (seed ${SEED})`, async (t) => {
  const LIMIT = 3;
  const agent = await startAgent('throttle', { ALTRACE_AUTH_FAILURES_PER_MINUTE: String(LIMIT) });
  const rng = new Rng(SEED, -1);
  const ctx = { secrets: SECRETS, witnessed: false };
  /** A valid request of a random path and protocol, presenting a key that does not exist. */
  const guess = (index: number): FuzzCase => {
    let v = validRequest(rng, MCP_SERVER);
    // The evidence endpoint's refusals lack their reason still (KNOWN_OPEN); this test is about the throttle.
    while (v.route === 'evidence') v = validRequest(rng, MCP_SERVER);
    const wrong = v.keyStyle === 'query-key' ? { headers: {}, path: `${v.path}${v.path.includes('?') ? '&' : '?'}key=alt-guess-${index}` } : { headers: { [v.keyStyle === 'bearer' ? 'authorization' : v.keyStyle]: `${v.keyStyle === 'bearer' ? 'Bearer ' : ''}alt-guess-${index}` }, path: v.path };
    const body = v.body === undefined ? null : Buffer.from(JSON.stringify(v.body));
    return { index, what: [v.route], request: { lane: rng.chance(0.5) ? 'h2' : 'http1', port: 'proxy', method: v.method, path: wrong.path, headers: { ...v.headers, ...wrong.headers }, body }, upstream: null, mayClose: false };
  };
  for (let i = 0; i < LIMIT; i++) {
    const c = guess(i);
    const o = await send(c, ports(agent), patience(20_000));
    t.deepEqual(judge(c, o, ctx), [], `${c.what.join(' ')}: ${JSON.stringify(o.replies.map((r) => r.status))}`);
    t.is(o.replies[0]?.status, 401, `guess ${i} on ${c.what.join(' ')} is refused as unknown`);
  }
  for (const lane of ['http1', 'h2'] as const) {
    const c = guess(LIMIT);
    c.request = { ...(c.request as Extract<FuzzCase['request'], { lane: 'http1' | 'h2' }>), lane };
    const o = await send(c, ports(agent), patience(20_000));
    t.deepEqual(judge(c, o, ctx), [], `${lane} ${c.what.join(' ')}`);
    t.is(o.replies[0]?.status, 429, `${lane} ${c.what.join(' ')}`);
    t.is(o.replies[0]?.headers['x-altrace-reason'], 'ALT_AUTH_THROTTLED');
    t.true(Number(o.replies[0]?.headers['retry-after']) > 0, 'retry-after says when to come back');
  }
  // The control API counts its own failures; past the same limit it refuses the same way.
  let last: Outcome | null = null;
  const wrongToken: FuzzCase = { index: -1, what: ['control', 'wrong token'], request: { lane: 'http1', port: 'control', method: 'GET', path: '/api/v1/keys', headers: { authorization: 'Bearer altop-guess' }, body: null }, upstream: null, mayClose: false };
  for (let i = 0; i <= LIMIT; i++) {
    last = await send(wrongToken, ports(agent), patience(20_000));
    t.deepEqual(judge(wrongToken, last, ctx), []);
  }
  t.is(last!.replies[0]?.status, 429);
  t.is(JSON.parse(last!.replies[0]!.body).error.code, 'ALT_AUTH_THROTTLED');
  t.true(alive(agent));
});
