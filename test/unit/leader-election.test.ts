// Leadership among control-plane replicas through a coordination.k8s.io Lease, with the real
// @kubernetes/client-node against the stand-in API server: one leader at a time; a replica that
// stops hands over at once; a leader cut off from the API server stops leading within its renew
// deadline, and another takes over only after the lease it last saw renewed has run out.
import test from 'ava';
import { createServer, connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { kubeConfigFor } from '../../agent/src/kube/kube-config.js';
import { LeaderElection } from '../../agent/src/kube/leader-election.js';
import { loadConfig } from '../../agent/src/config/load.js';
import { startStandIn, type StandIn } from '../helpers/kube.js';
import { eventually } from '../helpers/harness.js';

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, fatal() {}, child() { return silent; } } as never;
const TIMING = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100 };

function replica(standIn: StandIn, identity: string, kubeConfig = standIn.kubeConfig) {
  const changes: boolean[] = [];
  const election = new LeaderElection({ kubeConfig, logger: silent, lease: 'altrace-system/altrace-control-plane', identity, ...TIMING, onChange: (leading) => changes.push(leading) });
  return { election, changes };
}

type LeaseSpec = { holderIdentity?: string; leaseTransitions?: number; renewTime?: string; acquireTime?: string; leaseDurationSeconds?: number };
const leaseOf = (s: StandIn) => (s.api.get('leases', 'altrace-system', 'altrace-control-plane') as { spec?: LeaseSpec } | undefined)?.spec;

test('one leader at a time; the Lease names it with microsecond times; a replica that stops hands over at once', async (t) => {
  const s = await startStandIn(t);
  const a = replica(s, 'cp-a');
  const b = replica(s, 'cp-b');
  t.teardown(() => Promise.all([a.election.stop(), b.election.stop()]));
  await a.election.start();
  t.true(a.election.leading, 'the first replica leads (it created the Lease)');
  await b.election.start();
  t.false(b.election.leading);
  t.is(b.election.holder, 'cp-a');
  const lease = leaseOf(s)!;
  t.like(lease, { holderIdentity: 'cp-a', leaseDurationSeconds: 1, leaseTransitions: 0 });
  t.regex(lease.renewTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'MicroTime: six fractional digits, as the API server parses it');

  // Renewed while it leads; b never leads meanwhile.
  const first = lease.renewTime;
  await eventually(() => leaseOf(s)!.renewTime !== first, 2000, 'the leader renews');
  await sleep(1500);
  t.true(a.election.leading);
  t.false(b.election.leading, 'a renewed lease is never taken over');
  t.deepEqual(b.changes, []);

  await a.election.stop();
  t.deepEqual(a.changes, [true, false]);
  t.like(leaseOf(s), { holderIdentity: '' }, 'released');
  await eventually(() => b.election.leading, 1000, 'the other replica leads without waiting out the lease');
  t.like(leaseOf(s), { holderIdentity: 'cp-b', leaseTransitions: 1 });
});

/** A TCP relay to the stand-in that can be cut: one replica's network to its API server. */
async function cuttable(target: URL): Promise<{ url: string; cut(): void; swallow(): void }> {
  const sockets = new Set<Socket>();
  let open = true;
  let swallowing = false;
  const server = createServer((client) => {
    if (!open) return void client.destroy();
    if (swallowing) {
      // Accepted, never answered: a partition that drops packets rather than refusing them.
      sockets.add(client);
      client.on('error', () => {});
      return;
    }
    const upstream = connect(Number(target.port), target.hostname);
    for (const sock of [client, upstream]) {
      sockets.add(sock);
      sock.on('error', () => {});
      sock.on('close', () => sockets.delete(sock));
    }
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const sock of sockets) sock.destroy();
      server.close();
    },
    swallow() {
      swallowing = true;
      for (const sock of sockets) sock.destroy();
    },
  };
}

test('a leader cut off from the API server stops leading within its renew deadline; another takes over only after the lease runs out', async (t) => {
  const s = await startStandIn(t);
  const relay = await cuttable(new URL(s.api.url));
  t.teardown(() => relay.cut());
  const a = replica(s, 'cp-a', kubeConfigFor({ ...s.settings, api_server: relay.url }));
  const b = replica(s, 'cp-b');
  t.teardown(() => Promise.all([a.election.stop(), b.election.stop()]));
  await a.election.start();
  await b.election.start();
  t.true(a.election.leading);

  relay.cut();
  const cutAt = Date.now();
  await eventually(() => !a.election.leading, 3000, 'the cut-off leader steps down');
  const steppedDown = Date.now() - cutAt;
  await eventually(() => b.election.leading, 5000, 'the other replica takes over');
  const tookOver = Date.now() - cutAt;
  t.true(steppedDown <= TIMING.renewDeadlineMs + 400, `stepped down after ${steppedDown} ms (renew deadline ${TIMING.renewDeadlineMs})`);
  t.true(tookOver >= TIMING.leaseDurationMs - TIMING.retryPeriodMs, `took over after ${tookOver} ms, not before the lease (${TIMING.leaseDurationMs} ms) ran out`);
  t.true(steppedDown < tookOver, 'never two leaders: the old one stopped first');
  t.like(leaseOf(s), { holderIdentity: 'cp-b', leaseTransitions: 1 });
  t.true(a.election.counts.failures > 0);
});

test('a leader whose API server stops answering (requests swallowed, not refused) still steps down by its renew deadline', async (t) => {
  const s = await startStandIn(t);
  const relay = await cuttable(new URL(s.api.url));
  t.teardown(() => relay.cut());
  const a = replica(s, 'cp-a', kubeConfigFor({ ...s.settings, api_server: relay.url }));
  t.teardown(() => a.election.stop());
  await a.election.start();
  t.true(a.election.leading);
  relay.swallow();
  const at = Date.now();
  await eventually(() => !a.election.leading, 3000, 'the leader steps down though no request ever failed');
  t.true(Date.now() - at <= TIMING.renewDeadlineMs + 400, `after ${Date.now() - at} ms`);
});

test('the timings must let a leader stop before another may start: a configuration that does not is refused, naming the field', (t) => {
  const err = t.throws(() => loadConfig({ env: { ALTRACE_KUBERNETES_LEADER_ELECTION_RENEW_DEADLINE_S: '20' } }));
  t.regex(err!.message, /kubernetes\.leader_election needs retry_period_s < renew_deadline_s < lease_duration_s \(have 2 < 20 < 15\)/);
  t.like(loadConfig({ env: {} }).kubernetes.leader_election, { enabled: true, lease: 'altrace-system/altrace-control-plane', lease_duration_s: 15, renew_deadline_s: 10, retry_period_s: 2 });
});
