// The node's follower against a control plane that misbehaves on purpose (a scripted HTTP/2
// server with a CA of the test's own, speaking the real framing): a delta for a version the node
// does not have makes it drop the stream and resynchronise from a snapshot; a frame that is not
// in sequence is refused. The control-plane side of the same faults is in fleet-faults.test.ts.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Registry } from 'prom-client';
import { AgentLevels, BudgetLedger, KeyRegistry, KillSwitches, createLogger } from '../../proxy/src/index.js';
import { FrameDecoder, encodeFrame, type Frame } from '../../agent/src/fleet/frames.js';
import { FleetMetrics } from '../../agent/src/fleet/metrics.js';
import { LeaseHolder } from '../../agent/src/follower/budget-leases.js';
import { Follower } from '../../agent/src/follower/follower.js';
import { toWire } from '../../agent/src/follower/snapshot-file.js';
import { createCaCertificate, exportPrivateKey, generateKeys, signLeaf } from '../../agent/src/pki/x509.js';
import type { Change } from '../../agent/src/state/postgres/index.js';
import { eventually } from '../helpers/harness.js';

const key = (id: string, agent: string) => ({ id, hash: `h-${id}`, prefix: 'alt-x', agent, team: 't', models: [], providers: [], costCenter: null, expiresAt: null, revokedAt: null, createdAt: 1 });
const change = (version: number, payload: unknown): Change => ({ version, kind: 'key.put', payload, at: Date.now() });

/** A CA, a server certificate for 127.0.0.1, and a node's key and client certificate. */
async function pki() {
  const caKeys = await generateKeys();
  const caCert = await createCaCertificate('CN=test fleet CA', 1, caKeys);
  const ca = { cert: caCert, key: caKeys.privateKey };
  const now = Date.now();
  const serverKeys = await generateKeys();
  const server = await signLeaf(ca, { subject: 'CN=cp', names: [{ type: 'ip', value: '127.0.0.1' }], usage: 'server', publicKey: serverKeys.publicKey, notBefore: now - 60_000, notAfter: now + 3_600_000 });
  const nodeKeys = await generateKeys();
  const node = await signLeaf(ca, { subject: 'CN=n1', names: [{ type: 'url', value: 'altrace://node/n1' }], usage: 'client', publicKey: nodeKeys.publicKey, notBefore: now - 60_000, notAfter: now + 3_600_000 });
  return {
    caPem: caCert.toString('pem') + '\n',
    server: { key: await exportPrivateKey(serverKeys.privateKey), cert: server.toString('pem') + '\n' },
    node: { keyPem: await exportPrivateKey(nodeKeys.privateKey), certPem: node.toString('pem') + '\n' },
  };
}

/** One stream as the control plane scripts it: what the node's Hello said, and the frames sent after it. */
type Script = (hello: { applied_version: number }, send: (body: Record<string, unknown>) => void, raw: (frame: Buffer) => void) => void;

async function scriptedControlPlane(p: Awaited<ReturnType<typeof pki>>, scripts: Script[]) {
  const hellos: number[] = [];
  let n = 0;
  const server = createSecureServer({ ...p.server, ca: p.caPem, requestCert: true, rejectUnauthorized: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
    const script = scripts[Math.min(n++, scripts.length - 1)]!;
    const streamId = `s${n}`;
    let seq = 0;
    const send = (body: Record<string, unknown>) => res.write(encodeFrame({ stream_id: streamId, seq: ++seq, ...body }));
    res.writeHead(200, { 'content-type': 'application/x-altrace-fleet' });
    send({ welcome: { stream_id: streamId, replica: 'scripted', heartbeat_ms: 200 } });
    const decoder = new FrameDecoder();
    req.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk) as Frame[]) {
        if (f.body !== 'hello') continue;
        const hello = f.hello as { applied_version: number };
        hellos.push(hello.applied_version);
        script(hello, send, (frame) => res.write(frame));
      }
    });
    req.on('error', () => {});
  });
  server.on('sessionError', () => {});
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { url: new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}`), hellos, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function follow(t: import('ava').ExecutionContext, url: URL, p: Awaited<ReturnType<typeof pki>>) {
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-follower-'));
  mkdirSync(join(stateDir, 'fleet'));
  writeFileSync(join(stateDir, 'fleet', 'node-identity.json'), JSON.stringify({ nodeId: 'n1', ...p.node }));
  const keys = new KeyRegistry();
  const registry = new Registry();
  const metrics = new FleetMetrics(registry);
  const budgets = new BudgetLedger();
  const follower = await Follower.start({
    urls: [url],
    caPem: p.caPem,
    stateDir,
    nodeName: 'n1',
    bootstrapToken: () => undefined,
    maxStalenessMs: 30_000,
    onStale: 'fail_closed',
    version: 'test',
    registries: { keys, kills: new KillSwitches(), levels: new AgentLevels(), budgets, tokens: new Map() },
    leases: new LeaseHolder({ ledger: budgets, logger: createLogger('silent') }),
    audit: null,
    logger: createLogger('silent'),
    metrics,
  });
  t.teardown(async () => {
    await follower.close();
    rmSync(stateDir, { recursive: true, force: true });
  });
  const reconnects = async () => ((await registry.getSingleMetricAsString('altrace_fleet_reconnects_total')).match(/ (\d+)$/m)?.[1] ?? '0');
  return { follower, keys, reconnects };
}

test('a delta past a gap: the node drops the stream, comes back with the version it has, and resynchronises from the snapshot', async (t) => {
  const p = await pki();
  const cp = await scriptedControlPlane(p, [
    (_hello, send) => {
      send({ snapshot: { version: 1, state: [toWire(change(1, key('k1', 'first')))] } });
      send({ delta: { change: toWire(change(2, key('k2', 'second'))) } });
      // Version 3 never comes: 4 is a gap.
      send({ delta: { change: toWire(change(4, key('k4', 'fourth'))) } });
    },
    (_hello, send) => send({ snapshot: { version: 4, state: [change(1, key('k1', 'first')), change(2, key('k2', 'second')), change(3, key('k3', 'third')), change(4, key('k4', 'fourth'))].map(toWire) } }),
  ]);
  t.teardown(cp.close);
  const { follower, keys, reconnects } = await follow(t, cp.url, p);
  await eventually(() => follower.state.version === 4, 5000, 'the snapshot at version 4 applied');
  t.deepEqual(cp.hellos, [0, 2], 'the second Hello says the node stopped at version 2');
  t.deepEqual(['k1', 'k2', 'k3', 'k4'].map((id) => keys.get(id)?.agent), ['first', 'second', 'third', 'fourth']);
  t.is(await reconnects(), '1');
  t.true(follower.ready);
});

test('a forged frame (another stream id) or a replayed one: the node refuses it, keeps nothing from it, and reconnects', async (t) => {
  const p = await pki();
  for (const forge of ['another stream', 'a replay'] as const) {
    const cp = await scriptedControlPlane(p, [
      (_hello, send, raw) => {
        send({ snapshot: { version: 1, state: [toWire(change(1, key('k1', 'first')))] } });
        // Welcome was 1 and the snapshot 2: a true next frame is seq 3 on this stream.
        const forged = forge === 'another stream'
          ? encodeFrame({ stream_id: 'recorded-elsewhere', seq: 3, delta: { change: toWire(change(2, key('k2', 'forged'))) } })
          : encodeFrame({ stream_id: 's1', seq: 2, delta: { change: toWire(change(2, key('k2', 'forged'))) } });
        raw(forged);
      },
      (_hello, send) => send({ delta: { change: toWire(change(2, key('k2', 'true'))) } }),
    ]);
    const { follower, keys, reconnects } = await follow(t, cp.url, p);
    await eventually(() => follower.state.version === 2, 5000, `${forge}: the true version 2 after reconnecting`);
    t.is(keys.get('k2')?.agent, 'true', `${forge}: the forged change was not applied`);
    t.deepEqual(cp.hellos, [0, 1], `${forge}: refused at version 1, it came back asking from 1`);
    t.is(await reconnects(), '1');
    await follower.close();
    await cp.close();
  }
});
