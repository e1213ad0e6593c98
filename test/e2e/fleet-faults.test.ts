// Faults of the fleet (issue 19): the rig of fleet.test.ts (a real PostgreSQL, two
// control-plane replicas and four node agents as their own processes, the OpenAI SDK as the
// client) partitioned, killed, restarted, and spoken to by impostors. Each test checks that no
// acknowledged action is lost, that the hot path never waits for the control plane, and that
// the end state is explained by the nodes' metrics, `GET /api/v1/nodes` and the logs.
//
// Times are shortened so the file runs in under a minute: nodes go stale after 2 s
// (ALTRACE_FLEET_MAX_STALENESS_S) instead of 30, replicas beat every 200 ms, and the issue's
// "minute-long partition" lasts as long as it takes to see its effects (a few seconds): nothing
// in the code changes after the staleness limit has passed.
import type { webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { connect, type ClientHttp2Session } from 'node:http2';
import { loadavg } from 'node:os';
import test from 'ava';
import OpenAI from 'openai';
import { FleetCa } from '../../agent/src/control-plane/fleet-ca.js';
import { FrameDecoder, encodeFrame, type Frame } from '../../agent/src/fleet/frames.js';
import { fleetPost, type FleetTls } from '../../agent/src/follower/fleet-http.js';
import { snapshotPath } from '../../agent/src/follower/follower.js';
import { DAY_MS, createCaCertificate, createCsr, exportPrivateKey, generateKeys, signLeaf } from '../../agent/src/pki/x509.js';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import { hashKey } from '../../proxy/src/index.js';
import { startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { FLEET_CA_KEY, fleetMetrics, logLines, startFleet, type Fleet, type FleetNode, type ReplicaProcess } from '../helpers/fleet.js';
import { eventually } from '../helpers/harness.js';
import { patience } from '../helpers/patience.js';
import { postgresSuite } from '../helpers/postgres-suite.js';

const MAX_STALENESS_MS = 2000;
let rigStart = '';

let pg: PostgresServer;
let fleet: Fleet;
/** The test's own connection to the fleet's database: the CA (to issue certificates) and the change log's head. */
let store: PgStore;
let ca: FleetCa;
let caPem: string;
/** Nodes a0 and a1 prefer replica 0, b0 and s0 replica 1; s0 is fail_static, the others fail_closed. */
let a0: FleetNode;
let a1: FleetNode;
let b0: FleetNode;
let s0: FleetNode;
/** A key every node knows, and one whose agent was killed before any test ran. */
let worker: string;
let doomed: string;
/** The key of the agent whose kill was asked while PostgreSQL hung. */
let hungDbVictim: string;

const openai = (proxyUrl: string, key: string) => new OpenAI({ apiKey: key, baseURL: `${proxyUrl}/v1`, maxRetries: 0, timeout: 10_000 });

type Outcome = { ok: boolean; code?: string; status?: number };

async function chat(node: { proxyUrl: string }, key: string): Promise<Outcome> {
  try {
    await openai(node.proxyUrl, key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return { ok: true };
  } catch (err) {
    const e = err as InstanceType<typeof OpenAI.APIError>;
    return { ok: false, code: String(e.code ?? (err as Error).message), status: e.status };
  }
}

const REFUSED_STALE = { ok: false, code: 'ALT_FLEET_STALE', status: 503 };
const REFUSED_KILLED = { ok: false, code: 'ALT_KILLED_AGENT', status: 403 };

const allNodes = (): FleetNode[] => [a0, a1, b0, s0];
const liveReplicas = (): ReplicaProcess[] => fleet.replicas.filter((r) => r.child.exitCode === null && r.child.signalCode === null);

async function createKey(agent: string): Promise<{ key: string; id: string }> {
  const res = await call(liveReplicas()[0]!.controlUrl, 'POST', '/keys', { agent, team: 'ops' });
  if (res.status !== 201) throw new Error(`key for ${agent}: ${res.status} ${await res.text()}`);
  return (await res.json()) as { key: string; id: string };
}

/** Waits until every node in `nodes` answers `key` as `expected`. */
async function everyNode(nodes: FleetNode[], key: string, expected: Outcome, what: string): Promise<void> {
  const as = (r: Outcome) => r.ok === expected.ok && (r.ok || (r.code === expected.code && r.status === expected.status));
  await Promise.all(nodes.map((n) => eventually(async () => as(await chat(n, key)), 5000, `${n.name}: ${what}`)));
}

/** What a failed test leaves running (request loops, probe streams), ended after each test. */
const leftovers = new Set<() => Promise<unknown> | void>();

/**
 * Requests on known keys through `nodes`, one after another on each, until stop() — what must
 * keep being answered whatever happens to the control plane.
 */
function load(nodes: FleetNode[], key: string): { stop(): Promise<{ count: number; failures: string[] }> } {
  let running = true;
  let count = 0;
  const failures: string[] = [];
  const loops = nodes.map(async (n) => {
    while (running) {
      const r = await chat(n, key);
      count++;
      if (!r.ok) failures.push(`${n.name}: ${r.status} ${r.code}`);
    }
  });
  const stop = async () => {
    running = false;
    leftovers.delete(stop);
    await Promise.all(loops);
    return { count, failures };
  };
  leftovers.add(stop);
  return { stop };
}

/** Which replica a node streams from now: the one that logged its stream opening last (null: none since `since`). */
function replicaOf(node: FleetNode, since = 0): ReplicaProcess | null {
  let best: { r: ReplicaProcess; time: number } | null = null;
  for (const r of fleet.replicas) {
    for (const l of logLines(r.logs, 'node stream open', { node: node.name })) if (Number(l.time) >= since && (!best || Number(l.time) >= best.time)) best = { r, time: Number(l.time) };
  }
  return best?.r ?? null;
}

/**
 * The PostgreSQL server's processes: the postmaster and its children (each in a session of its
 * own, so not one process group), to SIGSTOP as a hung database.
 */
function postgresProcesses(): number[] {
  const root = pg.pid();
  if (root === null) throw new Error('PostgreSQL is not running');
  const children = readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root;
    } catch {
      return false;
    }
  });
  return [root, ...children.map(Number)];
}

/** Signals processes, some of which may have ended since they were listed. */
function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, sig);
    } catch {
      // Gone: nothing to stop or continue.
    }
  }
}

/** Every node streaming, fresh and at the head: where each fault test starts from. */
async function settled(): Promise<void> {
  for (const [i, r] of fleet.replicas.entries()) {
    if (r.child.exitCode !== null || r.child.signalCode !== null) throw new Error(`replica ${i} is not running (${r.child.exitCode ?? r.child.signalCode}):\n${r.stderr.slice(-20).join('\n')}`);
  }
  const head = await store.headVersion();
  await Promise.all(allNodes().map((n) => eventually(async () => {
    const m = await fleetMetrics(n);
    return m.altrace_fleet_stream_up === 1 && m.altrace_fleet_stale === 0 && m.altrace_fleet_applied_version === head;
  }, 8000, `${n.name} streaming, fresh, at version ${head}`)));
}

/** A control API call; a failure to connect names its cause (fetch's own message does not). */
async function call(baseUrl: string, method: string, path: string, body?: unknown): Promise<Response> {
  try {
    return await fleet.call(baseUrl, method, path, body);
  } catch (err) {
    throw new Error(`${method} ${baseUrl}${path}: ${(err as Error).message}: ${String((err as { cause?: Error }).cause?.message ?? (err as { cause?: unknown }).cause)}`);
  }
}

type NodeRow = { id: string; name: string; applied_version: number; lag: number | null; last_contact: string | null; removed: string | null };
async function listNodes(replica: ReplicaProcess): Promise<NodeRow[]> {
  const res = await call(replica.controlUrl, 'GET', '/nodes');
  if (res.status !== 200) throw new Error(`GET /nodes: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { nodes: NodeRow[] }).nodes;
}

/** A node's credentials as the fleet port takes them. */
interface Credentials {
  nodeId: string;
  key: string;
  cert: string;
}

/** A key and a CSR for it, as a node makes them. */
async function keyAndCsr(): Promise<{ keyPem: string; csr: string; publicKey: webcrypto.CryptoKey }> {
  const keys = await generateKeys();
  return { keyPem: await exportPrivateKey(keys.privateKey), csr: await createCsr('CN=altrace node', keys), publicKey: keys.publicKey };
}

/** Enrolls `name` over POST /fleet/v1/enroll with the rig's enrollment token, as a node would. */
async function enrollProbe(replica: ReplicaProcess, name: string): Promise<Credentials> {
  const { keyPem, csr } = await keyAndCsr();
  const res = await fleetPost(new URL(replica.fleetUrl), '/fleet/v1/enroll', { node_name: name, csr }, { ca: caPem }, fleet.enrollmentToken);
  if (res.status !== 201) throw new Error(`enroll ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  const b = res.body as { node_id: string; certificate: string };
  return { nodeId: b.node_id, key: keyPem, cert: b.certificate };
}

const errorOf = (body: unknown): { code: string; message: string } => (body as { error: { code: string; message: string } }).error;

/** POST /fleet/v1/stream answered before any frame: the status and error of a refused identity. */
async function streamRefusal(replica: ReplicaProcess, tls: FleetTls): Promise<{ status: number; code: string; message: string }> {
  const res = await fleetPost(new URL(replica.fleetUrl), '/fleet/v1/stream', {}, tls, null);
  return { status: res.status, ...errorOf(res.body) };
}

/** The node stream as a test speaks it: frames read as they come, frames (or bytes) written at will. */
interface ProbeStream {
  status: number;
  /** The next frame not read yet; skips heartbeats unless `heartbeats`. */
  next(opts?: { heartbeats?: boolean }): Promise<Frame>;
  write(bytes: Buffer): void;
  send(frame: { stream_id: string; seq: number } & Record<string, unknown>): void;
  /** Resolves when the replica has ended its side of the stream. */
  ended: Promise<void>;
  close(): void;
}

async function openStream(replica: ReplicaProcess, c: Credentials): Promise<ProbeStream> {
  const session: ClientHttp2Session = connect(replica.fleetUrl, { ca: caPem, key: c.key, cert: c.cert, minVersion: 'TLSv1.3' });
  session.on('error', () => {});
  const close = () => {
    leftovers.delete(close);
    session.destroy();
  };
  leftovers.add(close);
  const stream = session.request({ ':method': 'POST', ':path': '/fleet/v1/stream', 'content-type': 'application/x-altrace-fleet' });
  stream.on('error', () => {});
  const decoder = new FrameDecoder();
  const frames: Frame[] = [];
  let read = 0;
  let done = false;
  let wake: () => void = () => {};
  stream.on('data', (chunk: Buffer) => {
    frames.push(...decoder.push(chunk));
    wake();
  });
  const ended = new Promise<void>((resolve) =>
    stream.once('end', () => {
      done = true;
      wake();
      resolve();
    }),
  );
  stream.resume();
  const [headers] = (await once(stream, 'response')) as [Record<string, string>];
  return {
    status: Number(headers[':status']),
    async next(opts = {}) {
      const deadline = Date.now() + patience(3000);
      for (;;) {
        while (read < frames.length) {
          const f = frames[read++]!;
          if (f.body !== 'heartbeat' || opts.heartbeats) return f;
        }
        if (done) throw new Error('the stream ended');
        if (Date.now() > deadline) throw new Error('no frame within the wait');
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
    },
    write: (bytes) => void stream.write(bytes),
    send: (frame) => void stream.write(encodeFrame(frame)),
    ended,
    close,
  };
}

/** Waits for the replica's refusal frame and the end of the stream; returns the refusal. */
async function refusalOf(s: ProbeStream): Promise<{ code: string; message: string; frame: Frame }> {
  for (;;) {
    const f = await s.next();
    if (f.body === 'refusal') {
      await Promise.race([s.ended, new Promise((_, reject) => setTimeout(() => reject(new Error('the stream did not end after its refusal')), patience(2000)))]);
      return { ...(f.refusal as { code: string; message: string }), frame: f };
    }
  }
}

postgresSuite(() => {
  test.before(async () => {
    const t0 = Date.now();
    pg = await startPostgres();
    const t1 = Date.now();
    fleet = await startFleet(pg, 'fleet_faults', { replicas: 2, nodes: 0, together: true }, { ALTRACE_FLEET_MAX_STALENESS_S: String(MAX_STALENESS_MS / 1000) });
    const t2 = Date.now();
    [a0, a1, b0, s0] = await Promise.all([fleet.addNode('a0', {}, 0), fleet.addNode('a1', {}, 0), fleet.addNode('b0', {}, 1), fleet.addNode('s0', { ALTRACE_FLEET_ON_STALE: 'fail_static' }, 1)]);
    store = await PgStore.open(fleet.databaseUrl, { max: 2 });
    ca = await FleetCa.open(store.fleet, FLEET_CA_KEY);
    caPem = ca.certPem;
    worker = (await createKey('worker')).key;
    doomed = (await createKey('doomed')).key;
    const kill = await call(fleet.replicas[0]!.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'doomed', reason: 'killed before the faults' });
    if (kill.status !== 201) throw new Error(`kill: ${kill.status} ${await kill.text()}`);
    await everyNode(allNodes(), worker, { ok: true }, 'serves worker');
    await everyNode(allNodes(), doomed, REFUSED_KILLED, 'refuses doomed');
    rigStart = `the rig started in ${Date.now() - t0} ms: PostgreSQL ${t1 - t0} ms, 2 replicas ${t2 - t1} ms, 4 nodes and the first keys ${Date.now() - t2} ms (load average ${loadavg()[0]!.toFixed(1)})`;
  });

  test.afterEach.always(async (t) => {
    if (!fleet) return;
    // Whatever a failed test paused, resumed; whatever it left running, ended.
    for (const r of fleet.replicas) r.resume();
    for (const n of allNodes()) n?.child.kill('SIGCONT');
    if (pg.pid() !== null) signal(postgresProcesses(), 'SIGCONT');
    await Promise.all([...leftovers].map((end) => end()));
    // A process that died says why on stderr: reported whether or not the test passed.
    for (const [name, p] of [...fleet.replicas.map((r, i) => [`replica ${i}`, r] as const), ...allNodes().filter(Boolean).map((n) => [n.name, n] as const)]) {
      if (p.child.exitCode !== null || (p.child.signalCode !== null && p.child.signalCode !== 'SIGKILL')) t.log(`${name} exited (${p.child.exitCode ?? p.child.signalCode}):\n  ${p.stderr.slice(-20).join('\n  ')}`);
    }
    if (t.passed) return;
    // What the processes said at warn and above: the first thing to read when a test failed.
    for (const p of [...fleet.replicas.map((r, i) => ({ name: `replica ${i}`, logs: r.logs })), ...allNodes().filter(Boolean)]) {
      const lines = p.logs.filter((l) => /"level":(4|5|6)0/.test(l)).slice(-12);
      if (lines.length) t.log(`${p.name}:\n  ${lines.join('\n  ')}`);
    }
  });

  test.after.always(async () => {
    await store?.close().catch(() => {});
    await fleet?.close();
    await pg?.stop();
  });

  test.serial('identity: no certificate, another CA, an expired or replaced certificate, a bad enrollment token are refused with 401', async (t) => {
    t.log(rigStart);
    const replica = fleet.replicas[1]!;
    const refusedBefore = logLines(replica.logs, 'node refused').length;

    const none = await streamRefusal(replica, { ca: caPem });
    t.like(none, { status: 401, code: 'ALT_FLEET_UNAUTHENTICATED' });
    t.regex(none.message, /client certificate is required/);

    // A certificate naming node a0, signed by a CA the fleet does not know.
    const otherKeys = await generateKeys();
    const otherCa = await createCaCertificate('CN=Impostor CA', 1, otherKeys);
    const leaf = await keyAndCsr();
    const forged = await signLeaf({ cert: otherCa, key: otherKeys.privateKey }, { subject: 'CN=a0', names: [{ type: 'url', value: 'altrace://node/a0' }], usage: 'client', publicKey: leaf.publicKey, notBefore: Date.now() - 60_000, notAfter: Date.now() + 3_600_000 });
    const other = await streamRefusal(replica, { ca: caPem, key: leaf.keyPem, cert: forged.toString('pem') });
    t.like(other, { status: 401, code: 'ALT_FLEET_UNAUTHENTICATED' });
    t.regex(other.message, /not valid: UNABLE_TO_VERIFY_LEAF_SIGNATURE|not valid: .*(ISSUER|SIGNATURE)/);

    // The fleet's own CA, a certificate for a0 that expired yesterday.
    const old = await keyAndCsr();
    const expired = await ca.issueNode(old.csr, { id: 'a0', name: 'a0' }, DAY_MS, Date.now() - 2 * DAY_MS);
    const late = await streamRefusal(replica, { ca: caPem, key: old.keyPem, cert: expired.certPem });
    t.like(late, { status: 401, code: 'ALT_FLEET_UNAUTHENTICATED' });
    t.regex(late.message, /CERT_HAS_EXPIRED/);

    // Valid and signed by the fleet CA, but not the certificate a0 holds now (as after a renewal).
    const spare = await keyAndCsr();
    const replaced = await ca.issueNode(spare.csr, { id: 'a0', name: 'a0' }, DAY_MS);
    const stale = await streamRefusal(replica, { ca: caPem, key: spare.keyPem, cert: replaced.certPem });
    t.like(stale, { status: 401, code: 'ALT_FLEET_UNAUTHENTICATED' });
    t.regex(stale.message, /replaced by a newer one/);

    // Enrollment: no token, a wrong one, an expired one.
    const enroll = (bearer: string | null) => keyAndCsr().then(({ csr }) => fleetPost(new URL(replica.fleetUrl), '/fleet/v1/enroll', { node_name: 'intruder', csr }, { ca: caPem }, bearer));
    const noToken = await enroll(null);
    t.is(noToken.status, 401);
    t.like(errorOf(noToken.body), { code: 'ALT_FLEET_UNAUTHENTICATED' });
    const wrong = await enroll('altenroll-not-a-token-anyone-issued');
    t.is(wrong.status, 401);
    t.regex(errorOf(wrong.body).message, /unknown or expired bootstrap token/);
    const lapsed = 'altenroll-lapsed-token-of-this-test-0123456789';
    await store.fleet.addEnrollmentToken(hashKey(lapsed), { name: 'lapsed', createdAt: Date.now() - 2 * 3_600_000, expiresAt: Date.now() - 3_600_000, createdBy: 'fleet-faults test' });
    const expiredToken = await enroll(lapsed);
    t.is(expiredToken.status, 401);
    t.regex(errorOf(expiredToken.body).message, /unknown or expired bootstrap token/);
    t.false((await listNodes(replica)).some((n) => n.name === 'intruder'), 'no refused enrollment left a node behind');

    // Every refusal of a certificate is in the replica's log, saying why (written asynchronously).
    const refusals = () => logLines(replica.logs, 'node refused').slice(refusedBefore).map((l) => String(l.err));
    await eventually(() => refusals().length === 4, 2000, 'four refusals in the replica log');
    t.regex(refusals()[2]!, /CERT_HAS_EXPIRED/);
  });

  test.serial('a removed node: its certificate is refused from its next stream on; holding a bootstrap token, it enrolls again', async (t) => {
    const replica = fleet.replicas[0]!;
    // A node of the test's own, to see the refusal on the wire.
    const probe = await enrollProbe(replica, 'probe-removed');
    const before = await openStream(replica, probe);
    t.is(before.status, 200);
    t.is((await before.next()).body, 'welcome');
    t.is((await call(replica.controlUrl, 'DELETE', '/nodes/probe-removed')).status, 200);
    // The stream open at the removal: the code ends nothing at removal (the refusal comes at the
    // next stream), so it goes on carrying frames. Observed and reported, not asserted.
    const probeRemovedAt = Date.now();
    let carried = 0;
    try {
      while (Date.now() - probeRemovedAt < 400 && (await before.next({ heartbeats: true })).body === 'heartbeat') carried++;
    } catch {
      // Ended: what a removal that cuts streams would do.
    }
    before.close();
    t.log(`the stream open when probe-removed was removed carried ${carried} heartbeats in the next 400 ms`);
    const after = await streamRefusal(replica, { ca: caPem, key: probe.key, cert: probe.cert });
    t.like(after, { status: 401, code: 'ALT_FLEET_UNAUTHENTICATED' });
    t.regex(after.message, /node probe-removed was removed/);

    // A real node: removed, then made to reconnect (paused past its replica's patience, 5 beats
    // + 1 s, so that the replica ends its stream). It has ALTRACE_BOOTSTRAP_TOKEN, and the token
    // is still valid: the node enrolls again under its name and the removal is undone. That is
    // what the code does (Follower#reenroll, FleetIdentityStore.putNode clears removed_at).
    await settled();
    const removedAt = Date.now();
    const removed = await call(replica.controlUrl, 'DELETE', '/nodes/a1');
    t.is(removed.status, 200);
    t.truthy(((await removed.json()) as { removed: NodeRow }).removed.removed, 'listed as removed');
    const holder = replicaOf(a1)!;
    const dropped = () => logLines(holder.logs, 'node stream refused', { node: 'a1' }).filter((l) => Number(l.time) >= removedAt);
    a1.child.kill('SIGSTOP');
    try {
      await eventually(() => dropped().length > 0, 5000, "a1's replica ends its silent stream");
    } finally {
      a1.child.kill('SIGCONT');
    }
    t.like(dropped()[0], { code: 'ALT_FLEET_STALE' });
    await eventually(async () => (await listNodes(replica)).find((n) => n.name === 'a1')?.removed === null, 8000, 'a1 listed again, not removed');
    await eventually(async () => (await fleetMetrics(a1)).altrace_fleet_stream_up === 1, 5000, 'a1 streams again');
    await everyNode([a1], worker, { ok: true }, 'a1 serves again');
    // The node says why its stream was refused (Follower#readRefusal), the replicas that they refused and enrolled it.
    const refused = logLines(a1.logs, 'fleet stream failed; reconnecting').filter((l) => Number(l.time) >= removedAt).map((l) => String(l.err));
    t.true(refused.some((e) => /answered 401 ALT_FLEET_UNAUTHENTICATED: node a1 was removed/.test(e)), refused.join('\n'));
    const onReplicas = (msg: string, where: Record<string, unknown> = {}) => fleet.replicas.flatMap((r) => logLines(r.logs, msg, where)).filter((l) => Number(l.time) >= removedAt);
    t.true(onReplicas('node refused').some((l) => /node a1 was removed/.test(String(l.err))));
    const enrolledAgain = onReplicas('node enrolled', { node: 'a1' });
    t.true(enrolledAgain.length >= 1);
    t.log(`a1 removed, paused until its replica dropped it; on reconnecting: refused (401 "node a1 was removed"), enrolled again ${enrolledAgain.length} time(s) with its bootstrap token (the removal undone), streaming and serving again`);
  });

  test.serial('forged and replayed frames are refused with ALT_FLEET_FRAME_INVALID and end the stream; a true Hello at 0 gets the head as a snapshot', async (t) => {
    const replica = fleet.replicas[1]!;
    const probe = await enrollProbe(replica, 'probe-frames');
    const refusalsBefore = logLines(replica.logs, 'node stream refused', { node: 'probe-frames' }).length;
    const hello = (applied = 0, nodeId = probe.nodeId) => ({ hello: { node_id: nodeId, node_name: 'probe-frames', version: 'test', applied_version: applied } });

    // The truth first: Welcome, then a snapshot at the head of the change log.
    const good = await openStream(replica, probe);
    const welcome = await good.next();
    t.is(welcome.body, 'welcome');
    t.is(welcome.seq, 1);
    const id = welcome.stream_id;
    good.send({ stream_id: id, seq: 1, ...hello() });
    const snap = await good.next();
    t.is(snap.body, 'snapshot');
    const head = await store.headVersion();
    t.is((snap.snapshot as { version: number }).version, head, 'the snapshot is at the head');
    t.true((snap.snapshot as { state: unknown[] }).state.length >= 3, 'two keys and a kill at least');
    t.is((await fleetMetrics(replica)).altrace_fleet_applied_version, head);
    good.close();

    const cases: { name: string; after: (s: ProbeStream, id: string) => Promise<void> | void; message: RegExp }[] = [
      { name: 'a hello of another stream', after: (s) => s.send({ stream_id: 'not-this-stream', seq: 1, ...hello() }), message: /a frame of stream "not-this-stream"/ },
      { name: 'a replayed heartbeat', after: async (s, id) => {
        s.send({ stream_id: id, seq: 1, ...hello() });
        t.is((await s.next()).body, 'snapshot');
        s.send({ stream_id: id, seq: 1, heartbeat: { at: Date.now(), applied_version: head } });
      }, message: /frame 1 again \(replayed\)/ },
      { name: 'a frame skipped', after: (s, id) => s.send({ stream_id: id, seq: 2, ...hello() }), message: /frame 2 out of order/ },
      { name: 'bytes that are not a FleetFrame', after: (s) => s.write(Buffer.from([0, 0, 0, 6, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), message: /not a FleetFrame/ },
      { name: 'a length prefix over the limit', after: (s) => s.write(Buffer.from([0xff, 0xff, 0xff, 0xff])), message: /exceeds the \d+-byte limit/ },
      { name: 'a hello naming another node', after: (s, id) => s.send({ stream_id: id, seq: 1, ...hello(0, 'a0') }), message: /hello names node "a0", but the certificate is node probe-frames/ },
      { name: 'a heartbeat before the hello', after: (s, id) => s.send({ stream_id: id, seq: 1, heartbeat: { at: Date.now(), applied_version: 0 } }), message: /the first frame must be hello/ },
    ];
    for (const c of cases) {
      const s = await openStream(replica, probe);
      const w = await s.next();
      await c.after(s, w.stream_id);
      const r = await refusalOf(s);
      t.is(r.code, 'ALT_FLEET_FRAME_INVALID', c.name);
      t.regex(r.message, c.message, c.name);
      // The refusal is itself a frame of the stream, in its place.
      t.is(r.frame.stream_id, w.stream_id, c.name);
      s.close();
    }
    // Logs are written asynchronously: the last line can come after the last refusal frame.
    const logged = () => logLines(replica.logs, 'node stream refused', { node: 'probe-frames' }).slice(refusalsBefore);
    await eventually(() => logged().length === cases.length, 2000, 'each refusal in the replica log');
    t.deepEqual(logged().map((l) => l.code), cases.map(() => 'ALT_FLEET_FRAME_INVALID'));
    t.true((await fleetMetrics(replica))['altrace_fleet_refusals_total{code="ALT_FLEET_FRAME_INVALID"}']! >= cases.length);
  });

  test.serial('partition, fail_closed: after max_staleness new requests get 503 ALT_FLEET_STALE, a known kill still answers ALT_KILLED_AGENT; healed, the node serves again', async (t) => {
    const closed = [a0, a1, b0];
    await settled();
    const before = await Promise.all(closed.map(fleetMetrics));
    const versionBefore = before[0]!.altrace_fleet_applied_version;
    for (const r of fleet.replicas) r.pause();
    const cut = Date.now();
    const refusedAfter: number[] = [];
    try {
      // Within max_staleness a node decides from what it knows, as if nothing happened.
      t.deepEqual(await chat(a0, worker), { ok: true });
      await Promise.all(closed.map(async (n) => {
        await eventually(async () => (await chat(n, worker)).code === 'ALT_FLEET_STALE', MAX_STALENESS_MS + 3000, `${n.name} refuses as stale`);
        refusedAfter.push(Date.now() - cut);
      }));
      // Stale counts from the last frame, up to a beat (200 ms, more on a loaded machine) before
      // the cut: not refused at once, nor long after max_staleness.
      t.true(Math.min(...refusedAfter) >= MAX_STALENESS_MS - 1000, `refused ${refusedAfter.join(', ')} ms after the cut`);
      for (const n of closed) {
        t.like(await chat(n, worker), REFUSED_STALE, n.name);
        // The kill stage comes before the freshness stage: a killed agent is told it is killed.
        t.like(await chat(n, doomed), REFUSED_KILLED, n.name);
      }
      for (const n of closed) await eventually(async () => { const m = await fleetMetrics(n); return m.altrace_fleet_stale === 1 && m.altrace_fleet_stream_up === 0; }, 3000, `${n.name} reports stale and its stream down`);
      t.is((await fleetMetrics(a0)).altrace_fleet_applied_version, versionBefore, 'nothing applied while cut off');
      for (const n of closed) t.true(logLines(n.logs, 'fleet stream ended').some((l) => Number(l.time) >= cut && /no frame from replica/.test(String(l.err))), `${n.name} logged why it left its replica`);
    } finally {
      for (const r of fleet.replicas) r.resume();
    }
    const healed = Date.now();
    await Promise.all(closed.map((n) => eventually(async () => (await chat(n, worker)).ok, 8000, `${n.name} serves again`)));
    const servedAfter = Date.now() - healed;
    for (const [i, n] of closed.entries()) {
      await eventually(async () => { const m = await fleetMetrics(n); return m.altrace_fleet_stale === 0 && m.altrace_fleet_stream_up === 1; }, 3000, `${n.name} fresh again`);
      const m = await fleetMetrics(n);
      t.true(m.altrace_fleet_reconnects_total! > before[i]!.altrace_fleet_reconnects_total!, `${n.name} counted a reconnect`);
      t.is(m.altrace_fleet_applied_version, versionBefore);
      t.like(await chat(n, doomed), REFUSED_KILLED, `${n.name}: the kill outlived the partition`);
    }
    // The replicas record the nodes back: heard from since the heal, caught up.
    await eventually(async () => (await listNodes(fleet.replicas[0]!)).filter((n) => closed.some((c) => c.name === n.name)).every((n) => n.lag === 0 && Date.parse(n.last_contact!) >= healed), 8000, 'GET /nodes shows them caught up and heard from');
    t.log(`fail_closed: refused as stale ${refusedAfter.join(', ')} ms after the cut (max_staleness ${MAX_STALENESS_MS} ms); all served again ${servedAfter} ms after the heal`);
  });

  test.serial('partition, fail_static: the node keeps serving known keys and refusing known kills, and says it is stale', async (t) => {
    await settled();
    const before = await fleetMetrics(s0);
    for (const r of fleet.replicas) r.pause();
    try {
      // A fail_closed node beside it shows the partition is past max_staleness.
      await eventually(async () => (await chat(b0, worker)).code === 'ALT_FLEET_STALE', MAX_STALENESS_MS + 3000, 'b0 (fail_closed) refuses as stale');
      await eventually(async () => (await fleetMetrics(s0)).altrace_fleet_stale === 1, 3000, 's0 reports stale');
      // Stale (no frame past max_staleness) can come before the node's own silence check ends the
      // stream (five heartbeats): on a loaded machine the one is read before the other.
      await eventually(async () => (await fleetMetrics(s0)).altrace_fleet_stream_up === 0, 5000, 's0 has ended its silent stream');
      for (let i = 0; i < 5; i++) t.deepEqual(await chat(s0, worker), { ok: true }, 'fail_static serves a known key');
      t.like(await chat(s0, doomed), REFUSED_KILLED, 'and refuses a known kill');
    } finally {
      for (const r of fleet.replicas) r.resume();
    }
    await eventually(async () => { const m = await fleetMetrics(s0); return m.altrace_fleet_stale === 0 && m.altrace_fleet_stream_up === 1; }, 8000, 's0 fresh again');
    t.true((await fleetMetrics(s0)).altrace_fleet_reconnects_total! > before.altrace_fleet_reconnects_total!);
    await everyNode([b0], worker, { ok: true }, 'b0 serves again');
  });

  test.serial('a hung replica (SIGSTOP) loses its nodes to the other replica, which carries the next kill to them', async (t) => {
    const { key } = await createKey('hung-victim');
    await everyNode(allNodes(), key, { ok: true }, 'serves hung-victim');
    await settled();
    const hung = replicaOf(a0)!;
    const other = fleet.replicas.find((r) => r !== hung)!;
    const moved = allNodes().filter((n) => replicaOf(n) === hung);
    const before = await Promise.all(moved.map(fleetMetrics));
    hung.pause();
    const cut = Date.now();
    const back: number[] = [];
    try {
      await Promise.all(moved.map(async (n, i) => {
        await eventually(async () => { const m = await fleetMetrics(n); return m.altrace_fleet_stream_up === 1 && m.altrace_fleet_reconnects_total! > before[i]!.altrace_fleet_reconnects_total!; }, 8000, `${n.name} streams from the other replica`);
        back.push(Date.now() - cut);
      }));
      // Logs are written asynchronously: the replica's line can come after the node's metrics.
      for (const n of moved) await eventually(() => replicaOf(n, cut) === other, 2000, `${n.name} logged on the other replica`);
      const kill = await call(other.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'hung-victim', reason: 'fleet-faults: hung replica' });
      t.is(kill.status, 201);
      await everyNode(allNodes(), key, REFUSED_KILLED, 'refuses hung-victim');
      // Each left its replica on its silence, then gave up waiting for the hung replica's Welcome.
      for (const n of moved) t.true(logLines(n.logs, 'fleet stream failed; reconnecting').some((l) => Number(l.time) >= cut && /no welcome from/.test(String(l.err))), `${n.name} logged the Welcome deadline`);
    } finally {
      hung.resume();
    }
    t.log(`${moved.map((n) => n.name).join(', ')} streamed from the other replica ${back.join(', ')} ms after theirs hung (silence noticed after 5 beats + 1 s = 2 s, then a Welcome deadline of 1 s)`);
  });

  test.serial('a node restarted while the control plane is down starts from its snapshot file, serves known keys, then refuses once stale', async (t) => {
    await settled();
    const node = b0;
    const m = await fleetMetrics(node);
    t.true(existsSync(snapshotPath(node.stateDir)), 'the snapshot file exists');
    // Stopped before the control plane goes down: a node stopped while its replicas hang does
    // not exit on SIGTERM (Follower.close leaves a TLS socket to the hung replica open; reported),
    // and the harness would SIGKILL it 5 s later. What is tested here is the start.
    await node.stop();
    for (const r of fleet.replicas) r.pause();
    let restarted: FleetNode | null = null;
    let readyMs = 0;
    let staleMs = 0;
    try {
      // A longer staleness for this start: a loaded machine can take more than 2 s from the
      // follower's start to the first request.
      const start = Date.now();
      restarted = await fleet.restartNode(node, { ALTRACE_LOG_LEVEL: 'info', ALTRACE_FLEET_MAX_STALENESS_S: '4' });
      readyMs = Date.now() - start;
      b0 = restarted;
      t.deepEqual(await chat(restarted, worker), { ok: true }, 'a known key, from the file');
      t.like(await chat(restarted, doomed), REFUSED_KILLED, 'a known kill, from the file');
      const after = await fleetMetrics(restarted);
      t.is(after.altrace_fleet_applied_version, m.altrace_fleet_applied_version);
      t.is(after.altrace_fleet_stream_up, 0);
      t.like(logLines(restarted.logs, 'fleet state restored from the last snapshot')[0], { version: m.altrace_fleet_applied_version });
      const restoredAt = Number(logLines(restarted.logs, 'fleet state restored from the last snapshot')[0]?.time);
      await eventually(async () => (await chat(restarted!, worker)).code === 'ALT_FLEET_STALE', 4000 + 3000, 'the restarted node refuses once stale');
      staleMs = Date.now() - restoredAt;
      t.true(staleMs >= 4000, `stale ${staleMs} ms after it restored its state`);
      t.like(await chat(restarted, doomed), REFUSED_KILLED);
      await eventually(async () => (await fleetMetrics(restarted!)).altrace_fleet_stale === 1, 3000, 'reports stale');
    } finally {
      for (const r of fleet.replicas) r.resume();
    }
    await eventually(async () => (await chat(restarted!, worker)).ok, 8000, 'serves again');
    await eventually(async () => { const x = await fleetMetrics(restarted!); return x.altrace_fleet_stale === 0 && x.altrace_fleet_stream_up === 1; }, 3000, 'fresh again');
    t.log(`started with its replicas paused: ready in ${readyMs} ms from its snapshot file (version ${m.altrace_fleet_applied_version}); refused as stale ${staleMs} ms after restoring it (max_staleness 4 s for this start)`);
  });

  test.serial('PostgreSQL restarted under load: known keys answer throughout; then a kill is acknowledged and reaches every node', async (t) => {
    const { key } = await createKey('pg-victim');
    await everyNode(allNodes(), key, { ok: true }, 'serves pg-victim');
    const traffic = load(allNodes(), key);
    const restartStart = Date.now();
    await pg.restart();
    const restartMs = Date.now() - restartStart;
    await new Promise((r) => setTimeout(r, 200));
    const { count, failures } = await traffic.stop();
    t.deepEqual(failures, [], 'no request failed while PostgreSQL restarted');
    t.true(count > 10, `${count} requests`);
    const replica = fleet.replicas[1]!;
    const ackStart = Date.now();
    const kill = await call(replica.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'pg-victim', reason: 'fleet-faults: after PostgreSQL restart' });
    t.is(kill.status, 201, await kill.clone().text());
    const ackMs = Date.now() - ackStart;
    await everyNode(allNodes(), key, REFUSED_KILLED, 'refuses pg-victim');
    const head = await store.headVersion();
    for (const n of allNodes()) await eventually(async () => (await fleetMetrics(n)).altrace_fleet_applied_version === head, 3000, `${n.name} at the head`);
    // Each replica's LISTEN connection was lost and came back (listen.ts), and it said so.
    for (const r of fleet.replicas) t.true(logLines(r.logs, 'change log listener lost PostgreSQL; reconnecting').length >= 1, 'the replica logged its listener reconnecting');
    t.log(`PostgreSQL restart took ${restartMs} ms with ${count} requests answered through it; the first kill after it was acknowledged in ${ackMs} ms`);
  });

  test.serial('PostgreSQL down: an operator call gets a 5xx with a code, not a hang; nodes keep serving; after it, the kill made is seen everywhere', async (t) => {
    const replica = fleet.replicas[0]!;
    const { key } = await createKey('outage-victim');
    await everyNode(allNodes(), key, { ok: true }, 'serves outage-victim');
    await pg.kill();
    let restarted = false;
    try {
      const calls: { call: string; status: number; code: string; ms: number }[] = [];
      for (const [method, path, body] of [['POST', '/kill', { scope: 'agent', target: 'outage-victim' }], ['GET', '/keys', undefined], ['GET', '/nodes', undefined]] as const) {
        const start = Date.now();
        const res = await call(replica.controlUrl, method, path, body);
        const text = await res.text();
        const code = ((): string => {
          try {
            return (JSON.parse(text) as { error?: { code?: string } }).error?.code ?? '';
          } catch {
            return '';
          }
        })();
        calls.push({ call: `${method} ${path}`, status: res.status, code, ms: Date.now() - start });
        t.log(`${method} ${path} with PostgreSQL down: ${res.status} ${text.slice(0, 200)} (${Date.now() - start} ms)`);
      }
      for (const c of calls.filter((c) => c.call !== 'GET /keys')) {
        t.deepEqual([c.status, c.code], [503, 'ALT_DATABASE_UNREACHABLE'], `${c.call}: ${c.status} ${c.code}`);
        t.true(c.ms < patience(6000), `${c.call} answered in ${c.ms} ms`);
      }
      // The hot path does not touch PostgreSQL.
      for (const n of allNodes()) t.deepEqual(await chat(n, worker), { ok: true }, n.name);
      await pg.start();
      restarted = true;
    } finally {
      if (!restarted) await pg.start();
    }
    // The kill attempted during the outage was not acknowledged, so it may not be assumed: nodes still serve the agent.
    await everyNode(allNodes(), key, { ok: true }, 'outage-victim not killed by the refused call');
    const kill = await call(replica.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'outage-victim', reason: 'fleet-faults: after the outage' });
    t.is(kill.status, 201);
    await everyNode(allNodes(), key, REFUSED_KILLED, 'refuses outage-victim');
  });

  test.serial('PostgreSQL hung (SIGSTOP, not down): an operator call is answered 503 ALT_DATABASE_UNREACHABLE within the query timeout, not held', async (t) => {
    // With PostgreSQL down (refusing connections) calls fail at once (the test above). Hung (a
    // server or network that accepts and never answers), a call that takes a pooled connection
    // sends BEGIN and waits: the pool's query timeout (5 s, agent/src/state/postgres/pool.ts)
    // ends the wait, the connection is dropped, and the call is refused.
    const replica = fleet.replicas[1]!;
    const { key } = await createKey('hung-db-victim');
    hungDbVictim = key;
    // A call first, so that the replica's pool holds an idle connection (a new one would time
    // out after 5 s: the hang is on a connection the pool already has).
    t.is((await call(replica.controlUrl, 'GET', '/keys')).status, 200);
    const pids = postgresProcesses();
    signal(pids, 'SIGSTOP');
    const start = Date.now();
    const pending = call(replica.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'hung-db-victim', reason: 'fleet-faults: hung PostgreSQL' });
    let answer: Response | null = null;
    try {
      // The pool's connect timeout is 5 s: a fixed store answers within it, or soon after.
      answer = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), 7000))]);
    } finally {
      signal(pids, 'SIGCONT');
    }
    // The known failure must be the hang, nothing else: a replica that died instead fails the file.
    const late = answer ?? (await pending.catch((err: Error) => {
      throw new Error(`the replica died instead of answering (${replica.child.exitCode ?? replica.child.signalCode}): ${err.message}\n${replica.stderr.slice(-20).join('\n')}`);
    }));
    t.log(`POST /kill with PostgreSQL hung: ${answer ? `${answer.status} after ${Date.now() - start} ms` : `no answer within 7 s; ${late.status} ${Date.now() - start} ms after the call, once PostgreSQL resumed`}`);
    t.truthy(answer, 'an answer while PostgreSQL hangs');
    t.is(answer?.status, 503);
    t.is(((await answer!.json()) as { error: { code: string } }).error.code, 'ALT_DATABASE_UNREACHABLE');
  });

  test.serial('after PostgreSQL hung: both replicas still run; the refused kill holds nowhere, the same kill sent again reaches every node', async (t) => {
    // A read of the change log that failed while PostgreSQL hung used to end a replica's process
    // (an unhandled rejection in ChangeFeed): now it is logged and retried.
    for (const [i, r] of fleet.replicas.entries()) t.true(r.child.exitCode === null && r.child.signalCode === null, `replica ${i} runs`);
    await everyNode(allNodes(), hungDbVictim, { ok: true }, 'hung-db-victim not killed by the refused call');
    const again = await call(fleet.replicas[1]!.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'hung-db-victim', reason: 'fleet-faults: after the hang' });
    t.is(again.status, 201);
    await everyNode(allNodes(), hungDbVictim, REFUSED_KILLED, 'refuses hung-db-victim');
    await settled();
  });

  test.serial('a replica SIGKILLed under load: its nodes reconnect to the other, no request on a known key fails, and a kill through the other reaches every node', async (t) => {
    const { key } = await createKey('failover-victim');
    await everyNode(allNodes(), key, { ok: true }, 'serves failover-victim');
    await settled();
    const victim = replicaOf(a0)!;
    const survivor = fleet.replicas.find((r) => r !== victim)!;
    const moving = allNodes().filter((n) => replicaOf(n) === victim);
    const before = await Promise.all(moving.map(fleetMetrics));
    const traffic = load(allNodes(), worker);
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = performance.now();
    const cut = Date.now();
    await victim.kill();
    const reconnectMs = await Promise.all(
      moving.map(async (n, i) => {
        await eventually(async () => { const m = await fleetMetrics(n); return m.altrace_fleet_stream_up === 1 && m.altrace_fleet_reconnects_total! > before[i]!.altrace_fleet_reconnects_total!; }, 5000, `${n.name} reconnected`);
        return performance.now() - killedAt;
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const { count, failures } = await traffic.stop();
    t.deepEqual(failures, [], 'no request failed across the failover');
    for (const n of moving) await eventually(() => replicaOf(n, cut) === survivor, 2000, `${n.name} logged on the survivor`);
    const kill = await call(survivor.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'failover-victim', reason: 'fleet-faults: after the failover' });
    t.is(kill.status, 201);
    const ack = performance.now();
    await everyNode(allNodes(), key, REFUSED_KILLED, 'refuses failover-victim');
    const reached = performance.now() - ack;
    const head = await store.headVersion();
    for (const n of allNodes()) t.is((await fleetMetrics(n)).altrace_fleet_applied_version, head, `${n.name} at the head`);
    t.log(`${moving.map((n) => n.name).join(', ')} moved; reconnect after SIGKILL (stream_up back to 1, reconnects +1): ${reconnectMs.map((ms) => `${ms.toFixed(0)} ms`).join(', ')}; ${count} requests across it, none failed; the kill through the survivor refused everywhere ${reached.toFixed(0)} ms after its acknowledgement`);
  });
});
