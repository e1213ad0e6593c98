// `npm run bench` (last part): the fleet (docs/fleet.md), measured from outside its processes.
// A real PostgreSQL, 2 `altrace control-plane` replicas and 3 `altrace start --control-plane`
// nodes, each its own process (test/helpers/fleet.ts, the e2e rig), governing through one
// simulated provider process. Three things:
//  - kill propagation: a kill through either replica → a stream of that agent ended on every node
//  - a node's throughput in fleet mode against a single node (no control plane), alternating rounds
//  - a replica SIGKILLed: its nodes' streams back on the other replica, and a kill made meanwhile applied
// The replica loss runs last: it kills and restarts replicas.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { call, spawnReplica, startFleet, FLEET_CA_KEY, type Fleet } from '../helpers/fleet.js';
import { ADMIN_TOKEN, eventually, simulatorEnv } from '../helpers/harness.js';
import { spawnAgent, type AgentProcess } from '../helpers/process.js';
import { DURATION, RATE, cpuSeconds, f, histogram, load, pct, quantileMs, spawnJson, stopAll } from './common.js';

const KILLS = Number(process.env.BENCH_FLEET_KILLS ?? 40);
const FAILOVERS = Number(process.env.BENCH_FLEET_FAILOVERS ?? 4);
const TARGET_MS = 100;
/** A stream the kill must end: 500 fragments 20 ms apart would run for ten seconds. */
const SLOW_STREAM = { fragments: Array.from({ length: 500 }, (_, i) => `w${i} `), fragmentDelayMs: 20 };
const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
const streamBody = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'talk' }] });

async function createKey(controlUrl: string, agent: string): Promise<{ key: string; id: string }> {
  const res = await call(controlUrl, 'POST', '/keys', { agent, team: 'bench' });
  if (res.status !== 201) throw new Error(`POST /keys on ${controlUrl}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { key: string; id: string };
}

const knowsKey = async (node: AgentProcess, id: string) => (await call(node.controlUrl, 'GET', `/keys/${id}`)).status === 200;

async function scriptSim(simUrl: string, script: object): Promise<void> {
  await fetch(`${simUrl}/__sim/script`, { method: 'POST', body: JSON.stringify({ default: script }) });
}

/** Unlabelled samples of a node's or replica's /metrics. */
async function metrics(controlUrl: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const line of (await (await fetch(`${controlUrl}/metrics`)).text()).split('\n')) {
    const m = /^(altrace_fleet_\w+) (\S+)$/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/**
 * A streaming chat through a node, under way (its first fragment read); `ended` resolves with
 * when its body ended, and whether a kill ended it.
 */
async function openStream(proxyUrl: string, key: string): Promise<{ ended: Promise<{ at: number; killed: boolean }> }> {
  const res = await request(`${proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: streamBody });
  if (res.statusCode !== 200) throw new Error(`stream through ${proxyUrl}: ${res.statusCode} ${await res.body.text()}`);
  const it = res.body[Symbol.asyncIterator]();
  await it.next();
  // Wrapped: an async function returning this promise would wait for it.
  const ended = (async () => {
    let last = '';
    try {
      for (let r = await it.next(); !r.done; r = await it.next()) last = String(r.value);
    } catch (err) {
      last = (err as Error).message;
    }
    return { at: performance.now(), killed: last.includes('ALT_KILLED') };
  })();
  return { ended };
}

async function kill(controlUrl: string, agent: string): Promise<{ sent: number; ack: number }> {
  const sent = performance.now();
  const res = await request(`${controlUrl}/api/v1/kill`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ scope: 'agent', target: agent, reason: 'bench' }) });
  await res.body.dump();
  const ack = performance.now();
  if (res.statusCode !== 201) throw new Error(`POST /kill on ${controlUrl}: ${res.statusCode}`);
  return { sent, ack };
}

/** CPU seconds so far of each control-plane process: the replicas, the postmaster and its backends. */
function controlPlaneCpu(fleet: Fleet, pg: PostgresServer): Map<number, number> {
  const pids = fleet.replicas.map((r) => r.child.pid!);
  const postmaster = pg.pid();
  if (postmaster !== null) {
    pids.push(postmaster);
    try {
      pids.push(...readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // Gone between the two reads: counted as nothing.
    }
  }
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      out.set(pid, cpuSeconds(pid));
    } catch {
      // A backend that ended meanwhile.
    }
  }
  return out;
}

/** CPU used between two readings; a process that started meanwhile counts whole. */
const cpuDelta = (before: Map<number, number>, after: Map<number, number>, only?: (pid: number) => boolean) =>
  [...after].reduce((sum, [pid, t]) => sum + (only && !only(pid) ? 0 : t - (before.get(pid) ?? 0)), 0);

const p = (xs: number[]) => `p50 ${f(pct(xs, 0.5), 1)} ms  p99 ${f(pct(xs, 0.99), 1)} ms  max ${f(Math.max(...xs), 1)} ms`;

/** Each kill through replica i mod 2, on an agent streaming through all three nodes. */
async function killPropagation(fleet: Fleet, simUrl: string, keys: { agent: string; key: string }[]): Promise<void> {
  const nodes = fleet.nodes;
  const ackMs: number[] = [];
  const allFromAck: number[] = [];
  const allFromSent: number[] = [];
  const perNode: number[][] = nodes.map(() => []);
  const sameReplica: number[] = [];
  const otherReplica: number[] = [];
  let beforeAck = 0;
  const propBefore = await Promise.all(nodes.map((n) => histogram(n.controlUrl, 'altrace_fleet_propagation_seconds')));
  await scriptSim(simUrl, SLOW_STREAM);
  for (let i = 0; i < keys.length; i++) {
    const { agent, key } = keys[i]!;
    const streams = await Promise.all(nodes.map((n) => openStream(n.proxyUrl, key)));
    const through = i % 2;
    const { sent, ack } = await kill(fleet.replicas[through]!.controlUrl, agent);
    const ends = await Promise.all(streams.map((s) => s.ended));
    if (!ends.every((e) => e.killed)) throw new Error(`kill ${i}: a stream ended without ALT_KILLED_AGENT`);
    ackMs.push(ack - sent);
    ends.forEach((e, n) => {
      perNode[n]!.push(e.at - ack);
      // Node n follows replica n mod 2 (its first URL) for as long as that one lives.
      (n % 2 === through ? sameReplica : otherReplica).push(e.at - ack);
      if (e.at < ack) beforeAck++;
    });
    allFromAck.push(Math.max(...ends.map((e) => e.at)) - ack);
    allFromSent.push(Math.max(...ends.map((e) => e.at)) - sent);
    await sleep(100);
  }
  await scriptSim(simUrl, {});
  const propAfter = await Promise.all(nodes.map((n) => histogram(n.controlUrl, 'altrace_fleet_propagation_seconds')));
  const merged = (hs: Map<number, number>[]) => {
    const m = new Map<number, number>();
    for (const h of hs) for (const [le, n] of h) m.set(le, (m.get(le) ?? 0) + n);
    return m;
  };
  const all = pct(allFromAck, 0.99);
  const pooled = perNode.flat();
  console.log(`kill propagation: ${keys.length} kills, each of a fresh agent streaming through all ${nodes.length} nodes (a 10 s stream), through replica 1 and 2 in turn:`);
  console.log(`  operator: POST /kill sent → 201 (committed):              ${p(ackMs)}`);
  console.log(`  201 → stream ended on all ${nodes.length} nodes (per-kill max):       ${p(allFromAck)}   [target p99 ≤ ${TARGET_MS} ms — ${all <= TARGET_MS ? 'met' : 'NOT met'}]`);
  console.log(`  POST sent → stream ended on all ${nodes.length} nodes (per-kill max): ${p(allFromSent)}`);
  console.log(`  201 → stream ended, each node (${pooled.length} values):         ${p(pooled)}`);
  perNode.forEach((xs, n) => console.log(`    node-${n} (follows replica ${(n % 2) + 1}):                         ${p(xs)}`));
  console.log(`    kill made on the replica the node follows:            ${p(sameReplica)}`);
  console.log(`    kill made on the other replica:                       ${p(otherReplica)}`);
  console.log(`  streams already ended when the 201 arrived: ${beforeAck} of ${pooled.length}`);
  const before = merged(propBefore);
  const after = merged(propAfter);
  // Its clock starts at the change row's `at`, PostgreSQL's now(): when the transaction began, not when it committed.
  console.log(`  self-timed on the nodes, change written (just before its commit) → applied (altrace_fleet_propagation_seconds, ${(after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0)} changes, interpolated in 2/5/10/25 ms buckets): p50 ${f(quantileMs(after, before, 0.5), 2)} ms  p99 ${f(quantileMs(after, before, 0.99), 2)} ms`);
}

/**
 * One fleet node against one single node (no control plane), both started here with the same
 * settings but the fleet's, same simulator, same (shipped) policy; alternating rounds. Neither's
 * log is read by this process (the rig's nodes' logs are: that would load the load generator).
 */
async function throughput(fleet: Fleet, pg: PostgresServer, simUrl: string, dir: string): Promise<void> {
  const common = { ...simulatorEnv(simUrl), ALTRACE_LOG_LEVEL: 'info' };
  const single = await spawnAgent({ ...common, ALTRACE_STATE_DIR: join(dir, 'single') });
  const node = await spawnAgent({
    ...common,
    ALTRACE_STATE_DIR: join(dir, 'fleet-node'),
    ALTRACE_CONTROL_PLANE: fleet.replicas.map((r) => r.fleetUrl).join(','),
    ALTRACE_FLEET_CA_FILE: fleet.caFile,
    ALTRACE_NODE_NAME: 'bench-node',
    ALTRACE_BOOTSTRAP_TOKEN: fleet.enrollmentToken,
    // Its operator tokens come from the control plane.
    ALTRACE_ADMIN_TOKEN: undefined,
  });
  try {
    await eventually(async () => (await fetch(`${node.controlUrl}/readyz`)).status === 200, 10_000, 'the bench node ready');
    await measureThroughput(fleet, pg, single, node);
  } finally {
    await Promise.all([single.stop(), node.stop()]);
  }
}

async function measureThroughput(fleet: Fleet, pg: PostgresServer, single: AgentProcess, node: AgentProcess): Promise<void> {
  const fleetKey = await createKey(fleet.replicas[0]!.controlUrl, 'bench-fleet');
  await eventually(() => knowsKey(node, fleetKey.id), 5000, 'the bench node knows its key');
  const singleKey = await createKey(single.controlUrl, 'bench-single');
  const sides = [
    { name: 'single', agent: single, auth: { authorization: `Bearer ${singleKey.key}` } },
    { name: 'fleet', agent: node, auth: { authorization: `Bearer ${fleetKey.key}` } },
  ] as const;
  for (const s of sides) await load(s.agent.proxyUrl, s.auth, chat, { connections: 10, rate: 200, seconds: 2 });

  // At a fixed rate: the self-timed added latency and the CPU per request, each side in two
  // runs in ABBA order, so neither side alone gets the first run after the warm-up.
  // The control plane's CPU is counted too: with a node under load the replicas take its spend, runs and audit.
  const fixedSeconds = Math.max(1, Math.round(DURATION / 4));
  const acc = sides.map(() => ({ h0: new Map<number, number>(), h1: new Map<number, number>(), cpu: 0, controlPlane: 0, requests: 0, p50: [] as number[], p99: [] as number[], errors: 0 }));
  for (let i = 0; i < sides.length; i++) acc[i]!.h0 = await histogram(sides[i]!.agent.controlUrl, 'altrace_proxy_overhead_seconds');
  for (const i of [0, 1, 1, 0]) {
    const s = sides[i]!;
    const c0 = cpuSeconds(s.agent.child.pid!);
    const cp0 = controlPlaneCpu(fleet, pg);
    const r = await load(s.agent.proxyUrl, s.auth, chat, { connections: 50, rate: RATE, seconds: fixedSeconds });
    acc[i]!.cpu += cpuSeconds(s.agent.child.pid!) - c0;
    acc[i]!.controlPlane += cpuDelta(cp0, controlPlaneCpu(fleet, pg));
    acc[i]!.requests += r.rps * fixedSeconds;
    acc[i]!.p50.push(r.p50);
    acc[i]!.p99.push(r.p99);
    acc[i]!.errors += r.errors;
  }
  const fixed: Record<string, string> = {};
  for (let i = 0; i < sides.length; i++) {
    const x = acc[i]!;
    x.h1 = await histogram(sides[i]!.agent.controlUrl, 'altrace_proxy_overhead_seconds');
    const us = (cpu: number) => f((cpu / x.requests) * 1e6, 0);
    fixed[sides[i]!.name] = `added p50 ${f(quantileMs(x.h1, x.h0, 0.5), 3)} ms  p99 ${f(quantileMs(x.h1, x.h0, 0.99), 3)} ms   CPU ${us(x.cpu)} µs/request (the control plane meanwhile ${us(x.controlPlane)})   (autocannon p50 ${x.p50.join('/')} ms, p99 ${x.p99.join('/')} ms, ${x.errors} errors)`;
  }

  // ABBA rounds, as run.ts: this VM's speed drifts within seconds, and both sides get the same
  // drift. Twice as many rounds, half as long, as run.ts (the same time per side): single rounds
  // of these two swung from 0.5 to 1.2 here.
  const rounds = Number(process.env.BENCH_FLEET_ROUNDS ?? 8);
  const roundSeconds = Math.max(1, Math.round((2 * DURATION) / rounds));
  // The control plane shares this machine's 2 cores with the node under load; a deployed one would
  // not. What it spends meanwhile (replicas and PostgreSQL's processes) is printed next to the ratio.
  const cost = sides.map(() => ({ node: 0, controlPlane: 0, replicas: 0, requests: 0 }));
  const isReplica = (pid: number) => fleet.replicas.some((r) => r.child.pid === pid);
  const run = async (i: number) => {
    const s = sides[i]!;
    const n0 = cpuSeconds(s.agent.child.pid!);
    const cp0 = controlPlaneCpu(fleet, pg);
    const r = await load(s.agent.proxyUrl, s.auth, chat, { connections: 50, seconds: roundSeconds });
    if (r.errors) throw new Error(`${s.name}: ${r.errors} errors in a throughput round`);
    cost[i]!.node += cpuSeconds(s.agent.child.pid!) - n0;
    const cp1 = controlPlaneCpu(fleet, pg);
    cost[i]!.controlPlane += cpuDelta(cp0, cp1);
    cost[i]!.replicas += cpuDelta(cp0, cp1, isReplica);
    cost[i]!.requests += r.rps * roundSeconds;
    return r.rps;
  };
  let singleSum = 0;
  let fleetSum = 0;
  const pairs: string[] = [];
  const roundRatios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    let a: number;
    let b: number;
    if (round % 2 === 0) {
      a = await run(0);
      b = await run(1);
    } else {
      b = await run(1);
      a = await run(0);
    }
    singleSum += a;
    fleetSum += b;
    pairs.push(`${f(a, 0)}/${f(b, 0)}`);
    roundRatios.push(b / a);
  }
  const ratio = fleetSum / singleSum;
  console.log(`\nthroughput of one node in fleet mode (a 4th node, following replica 1) against a single node (no control plane), same simulator and policy, non-streaming chat, virtual key:`);
  console.log(`  at ${RATE} req/s, 2 runs of ${fixedSeconds} s each (ABBA): single ${fixed.single}`);
  console.log(`                                          fleet  ${fixed.fleet}`);
  console.log(`  unthrottled, 50 connections, ${rounds} alternating rounds of ${roundSeconds} s: single ${f(singleSum / rounds, 0)} req/s, fleet ${f(fleetSum / rounds, 0)} req/s → ratio ${f(ratio, 3)} (median round ${f(pct(roundRatios, 0.5), 3)})   [goal ≥ 0.95 — ${ratio >= 0.95 ? 'met' : 'NOT met'}]`);
  console.log(`  single/fleet req/s per round: ${pairs.join(', ')}`);
  const per = (x: (typeof cost)[number], cpu: number) => f((cpu / x.requests) * 1e6, 0);
  console.log(`  CPU per request in those rounds, µs: the node under load single ${per(cost[0]!, cost[0]!.node)}, fleet ${per(cost[1]!, cost[1]!.node)}; the control plane meanwhile (same 2 cores) ${per(cost[0]!, cost[0]!.controlPlane)} during single rounds, ${per(cost[1]!, cost[1]!.controlPlane)} during fleet rounds (replicas ${per(cost[1]!, cost[1]!.replicas)}, PostgreSQL ${per(cost[1]!, cost[1]!.controlPlane - cost[1]!.replicas)})`);
}

/**
 * SIGKILLs the replica most nodes follow, then restarts it on the same ports (the nodes' URLs);
 * each time: SIGKILL → each of its nodes streaming from the other replica again, and a kill made
 * through the survivor right after the SIGKILL → applied on each node.
 */
async function replicaLoss(fleet: Fleet, simUrl: string, keys: { agent: string; key: string }[], dir: string, databaseUrl: string): Promise<void> {
  const nodes = fleet.nodes;
  // Node i starts on replica i mod 2 and moves only when its replica fails.
  const following = nodes.map((_, i) => i % 2);
  const reconnectMs: number[] = [];
  const exitMs: number[] = [];
  const killFromSigkill: number[] = [];
  const killFromAck: number[] = [];
  const unaffectedFromAck: number[] = [];
  const trials: string[] = [];
  await scriptSim(simUrl, SLOW_STREAM);
  for (let t = 0; t < keys.length; t++) {
    const victim = following.filter((r) => r === 0).length >= following.filter((r) => r === 1).length ? 0 : 1;
    const survivor = 1 - victim;
    const affected = nodes.map((_, i) => i).filter((i) => following[i] === victim);
    // The replica's own count agrees with which nodes follow it (the throughput section's node has gone).
    const streamsOn = async (r: number) => (await metrics(fleet.replicas[r]!.controlUrl)).get('altrace_fleet_node_streams');
    await eventually(async () => (await streamsOn(victim)) === affected.length, 2000, `replica ${victim + 1} holding the streams of nodes ${affected.join(', ')}`);
    const before = await Promise.all(nodes.map(async (n) => (await metrics(n.controlUrl)).get('altrace_fleet_reconnects_total') ?? 0));
    const { agent, key } = keys[t]!;
    const streams = await Promise.all(nodes.map((n) => openStream(n.proxyUrl, key)));

    const dead = fleet.replicas[victim]!;
    const sigkill = performance.now();
    const exited = once(dead.child, 'exit').then(() => performance.now() - sigkill);
    dead.child.kill('SIGKILL');
    const back = affected.map(async (i) => {
      for (;;) {
        const m = await metrics(nodes[i]!.controlUrl);
        if (m.get('altrace_fleet_stream_up') === 1 && (m.get('altrace_fleet_reconnects_total') ?? 0) > before[i]!) return performance.now() - sigkill;
        if (performance.now() - sigkill > 10_000) throw new Error(`node-${i} not back within 10 s`);
        await sleep(10);
      }
    });
    const allBack = Promise.all(back);
    allBack.catch(() => {}); // awaited below, after the streams
    const { ack } = await kill(fleet.replicas[survivor]!.controlUrl, agent);
    const ends = await Promise.all(streams.map((s) => s.ended));
    if (!ends.every((e) => e.killed)) throw new Error(`replica loss ${t}: a stream ended without ALT_KILLED_AGENT`);
    const backMs = await allBack;
    reconnectMs.push(...backMs);
    exitMs.push(await exited);
    for (const i of affected) {
      killFromSigkill.push(ends[i]!.at - sigkill);
      killFromAck.push(ends[i]!.at - ack);
    }
    for (let i = 0; i < nodes.length; i++) if (!affected.includes(i)) unaffectedFromAck.push(ends[i]!.at - ack);
    trials.push(`replica ${victim + 1}: ${affected.map((i, k) => `node-${i} ${f(backMs[k]!, 0)}/${f(ends[i]!.at - sigkill, 0)}`).join(', ')}`);
    for (const i of affected) following[i] = survivor;

    // Back on the same ports: they are the URLs the nodes were given.
    const ports = { control: new URL(dead.controlUrl).port, fleet: new URL(dead.fleetUrl).port };
    await dead.kill();
    fleet.replicas[victim] = await spawnReplica({
      ALTRACE_DATABASE_URL: databaseUrl,
      ALTRACE_FLEET_CA_KEY: FLEET_CA_KEY,
      ALTRACE_ADMIN_TOKEN: ADMIN_TOKEN,
      ALTRACE_STATE_DIR: join(dir, `replica-${victim}-${t}`),
      ALTRACE_FLEET_HEARTBEAT_MS: '200',
      ALTRACE_CONTROL_PORT: ports.control,
      ALTRACE_FLEET_PORT: ports.fleet,
    });
    // Every node is on the survivor now: nothing to wait for before the next trial.
    await eventually(async () => (await streamsOn(survivor)) === nodes.length, 2000, `replica ${survivor + 1} holding every node's stream`);
  }
  await scriptSim(simUrl, {});
  console.log(`\nreplica loss: ${keys.length} times the replica most nodes follow is SIGKILLed (then restarted on its ports); nodes list both replicas; ${reconnectMs.length} node reconnections:`);
  console.log(`  SIGKILL → the replica's process gone (its 'exit' here; the kernel closes its sockets on the way): ${p(exitMs)}`);
  console.log(`  SIGKILL → node streaming from the other replica (stream_up 1, reconnects +1; /metrics polled every 10 ms): ${p(reconnectMs)}`);
  console.log(`  a kill through the survivor, sent at the SIGKILL: SIGKILL → applied on the moved node (its stream ended):  ${p(killFromSigkill)}`);
  console.log(`                                                    201 → applied on the moved node:                         ${p(killFromAck)}`);
  if (unaffectedFromAck.length) console.log(`                                                    201 → applied on a node already on the survivor:          ${p(unaffectedFromAck)}`);
  console.log(`  each loss, node reconnected / kill applied, ms after the SIGKILL: ${trials.join('; ')}`);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-bench-fleet-'));
  let pg: PostgresServer | undefined;
  let fleet: Fleet | undefined;
  try {
    console.log(`\n# altrace fleet bench — PostgreSQL, 2 control-plane replicas, 3 nodes, each its own process; info logs\n`);
    const t0 = performance.now();
    const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
    const simUrl = sim.info.url as string;
    pg = await startPostgres();
    const nodeEnv = { ALTRACE_OPENAI_BASE_URL: `${simUrl}/v1`, ALTRACE_LOG_LEVEL: 'info' };
    fleet = await startFleet(pg, 'fleet_bench', { replicas: 2, nodes: 3 }, nodeEnv);
    // Keys made up front, so each kill meets a quiet fleet; known on every node before the first.
    const made: { agent: string; key: string; id: string }[] = [];
    for (let i = 0; i < KILLS + FAILOVERS; i++) {
      const agent = `victim-${i}`;
      made.push({ agent, ...(await createKey(fleet.replicas[i % 2]!.controlUrl, agent)) });
    }
    for (const n of fleet.nodes) await eventually(() => knowsKey(n, made[made.length - 1]!.id), 5000, 'every node knows the last key');
    console.log(`(fleet up, ${made.length} keys made, in ${f((performance.now() - t0) / 1000, 1)} s)\n`);

    await killPropagation(fleet, simUrl, made.slice(0, KILLS));
    await throughput(fleet, pg, simUrl, dir);
    await replicaLoss(fleet, simUrl, made.slice(KILLS), dir, fleet.databaseUrl);
    console.log(`\n(fleet bench: ${f((performance.now() - t0) / 1000, 0)} s)`);
  } finally {
    await fleet?.close();
    await stopAll();
    await pg?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
