// The operator's side of the fleet (docs/fleet.md, "Enrollment and identity", "Operating it") on
// a real PostgreSQL: enrollment tokens issued, verified, expired and deleted; nodes listed with
// their lag behind the change log's head, and removed; all of it admin-only. The routes are
// driven through the control API's router, as the server dispatches them.
import test, { type ExecutionContext } from 'ava';
import { hashKey } from '../../proxy/src/index.js';
import { ControlError } from '../../agent/src/errors.js';
import { ControlRoutes, type ControlReply } from '../../agent/src/control/router.js';
import { fleetNodeRoutes } from '../../agent/src/control/routes/fleet-nodes.js';
import { FleetNodeService } from '../../agent/src/services/fleet-node-service.js';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import type { Operator } from '../../agent/src/services/operator.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';

const T0 = Date.parse('2026-12-02T12:00:00.000Z');
const HOUR = 3_600_000;
const admin: Operator = { name: 'root-ops', team: null };
const payments: Operator = { name: 'payments-ops', team: 'payments' };

async function refusal(p: Promise<unknown>): Promise<{ code: string; status: number; field?: string | undefined }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ControlError) return { code: err.code, status: err.status, field: err.field };
    throw err;
  }
  throw new Error('expected a ControlError, and the call succeeded');
}

postgresSuite(() => {
  let pg!: PostgresServer;
  let n = 0;
  sharedPostgres((server) => (pg = server));

  async function store(t: ExecutionContext): Promise<PgStore> {
    const s = await PgStore.open(await pg.createDatabase(`fleet_nodes_${++n}`));
    t.teardown(() => s.close());
    return s;
  }

  /** A node as enrollment records it. */
  const enroll = (s: PgStore, id: string, at = T0) => s.fleet.putNode({ id, name: `node ${id}`, certSerial: `serial-${id}`, certExpiresAt: at + 24 * HOUR, at });

  test('an admin issues an enrollment token: shown once, stored by its hash, verified by its secret only', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0);
    const { token, view } = await nodes.createEnrollmentToken(admin, { name: 'rack-a' });
    t.regex(token, /^altenroll-[A-Za-z0-9_-]{32}$/);
    t.deepEqual(view, { name: 'rack-a', createdAt: T0, expiresAt: T0 + 24 * HOUR, createdBy: 'root-ops' });
    t.deepEqual(await s.fleet.findEnrollmentToken(hashKey(token)), view, 'kept under the hash of the secret');
    t.deepEqual(await nodes.verifyEnrollmentToken(token), view);
    t.is(await nodes.verifyEnrollmentToken(token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A')), null, 'one character off');
    t.is(await nodes.verifyEnrollmentToken(''), null);
    const second = await nodes.createEnrollmentToken(admin, { name: 'rack-b', ttl_hours: 8760 });
    t.not(second.token, token);
    t.deepEqual((await nodes.listEnrollmentTokens(admin)).map((x) => [x.name, x.expiresAt]), [
      ['rack-a', T0 + 24 * HOUR],
      ['rack-b', T0 + 8760 * HOUR],
    ]);
  });

  test('a token expires at its TTL: it verifies until the last millisecond before, and never from then on', async (t) => {
    const s = await store(t);
    let now = T0;
    const nodes = new FleetNodeService(s.fleet, () => now);
    const { token } = await nodes.createEnrollmentToken(admin, { name: 'short', ttl_hours: 1 });
    now = T0 + HOUR - 1;
    t.truthy(await nodes.verifyEnrollmentToken(token));
    now = T0 + HOUR;
    t.is(await nodes.verifyEnrollmentToken(token), null);
    now = T0 + 48 * HOUR;
    t.is(await nodes.verifyEnrollmentToken(token), null);
    t.is((await nodes.listEnrollmentTokens(admin)).length, 1, 'an expired token stays listed until deleted');
  });

  test('a name is issued once, also when two replicas issue it at the same moment', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0);
    await nodes.createEnrollmentToken(admin, { name: 'rack-a' });
    t.deepEqual(await refusal(nodes.createEnrollmentToken(admin, { name: 'rack-a', ttl_hours: 2 })), { code: 'ALT_CONFLICT', status: 409, field: 'name' });

    // Two stores (two pools, as two replicas have) on one database.
    const url = await pg.createDatabase(`fleet_nodes_${++n}`);
    const replicas = await Promise.all([PgStore.open(url), PgStore.open(url)]);
    t.teardown(() => Promise.all(replicas.map((r) => r.close())).then(() => {}));
    const outcomes = await Promise.allSettled(replicas.flatMap((r) => [0, 1, 2].map(() => new FleetNodeService(r.fleet, () => T0).createEnrollmentToken(admin, { name: 'same' }))));
    t.is(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
    t.true(outcomes.every((o) => o.status === 'fulfilled' || (o.reason as ControlError).code === 'ALT_CONFLICT'));
  });

  test('a token body is checked field by field before anything is stored', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0);
    const field = async (body: unknown) => (await refusal(nodes.createEnrollmentToken(admin, body))).field;
    t.is(await field(null), '(body)');
    t.is(await field(['rack']), '(body)');
    t.is(await field({}), 'name');
    t.is(await field({ name: 'has space' }), 'name');
    t.is(await field({ name: 'x'.repeat(129) }), 'name');
    t.is(await field({ name: 'rack', ttl: 5 }), 'ttl');
    t.is(await field({ name: 'rack', ttl_hours: 0 }), 'ttl_hours');
    t.is(await field({ name: 'rack', ttl_hours: 8761 }), 'ttl_hours');
    t.is(await field({ name: 'rack', ttl_hours: '24' }), 'ttl_hours');
    t.deepEqual(await nodes.listEnrollmentTokens(admin), []);
    t.is((await nodes.createEnrollmentToken(admin, { name: 'rack', ttl_hours: null })).view.expiresAt, T0 + 24 * HOUR, 'null is the default, as absent');
  });

  test('a team token may not see or change the fleet', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0);
    await enroll(s, 'node-a');
    await nodes.createEnrollmentToken(admin, { name: 'rack-a' });
    const forbidden = { code: 'ALT_FORBIDDEN', status: 403, field: undefined };
    t.deepEqual(await refusal(nodes.createEnrollmentToken(payments, { name: 'mine' })), forbidden);
    t.deepEqual(await refusal(nodes.listEnrollmentTokens(payments)), forbidden);
    t.deepEqual(await refusal(nodes.deleteEnrollmentToken(payments, 'rack-a')), forbidden);
    t.deepEqual(await refusal(nodes.listNodes(payments)), forbidden);
    t.deepEqual(await refusal(nodes.removeNode(payments, 'node-a')), forbidden);
    t.deepEqual((await nodes.listEnrollmentTokens(admin)).map((x) => x.name), ['rack-a'], 'nothing changed');
    t.is((await s.fleet.getNode('node-a'))!.removedAt, null);
  });

  test('a deleted token no longer verifies; deleting it again is not found', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0);
    const { token } = await nodes.createEnrollmentToken(admin, { name: 'rack-a' });
    t.is((await nodes.deleteEnrollmentToken(admin, 'rack-a')).name, 'rack-a');
    t.is(await nodes.verifyEnrollmentToken(token), null);
    t.deepEqual(await refusal(nodes.deleteEnrollmentToken(admin, 'rack-a')), { code: 'ALT_NOT_FOUND', status: 404, field: 'name' });
    await nodes.createEnrollmentToken(admin, { name: 'rack-a' });
    t.pass('the name is free again');
  });

  test('nodes are listed with their last contact and their lag behind the change log head', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0, () => s.headVersion());
    await enroll(s, 'node-b');
    await enroll(s, 'node-a');
    // Three committed changes; node-a has applied the first, node-b has never been heard from.
    for (const name of ['one', 'two', 'three']) await s.addOperatorToken(hashKey(name), name, null, 'admin');
    const head = await s.headVersion();
    t.true(head >= 3);
    await s.fleet.touchNode('node-a', T0 + 5_000, '0.1.0', head - 2);
    const views = await nodes.listNodes(admin);
    t.deepEqual(views[0], {
      id: 'node-a',
      name: 'node node-a',
      version: '0.1.0',
      enrolled: '2026-12-02T12:00:00.000Z',
      last_contact: '2026-12-02T12:00:05.000Z',
      cert_expires: '2026-12-03T12:00:00.000Z',
      applied_version: head - 2,
      lag: 2,
      removed: null,
      leases_usd: 0,
    });
    t.like(views[1], { id: 'node-b', version: null, last_contact: null, applied_version: 0, lag: head });
    const noHead = await new FleetNodeService(s.fleet, () => T0).listNodes(admin);
    t.is(noHead[0]!.lag, null, 'without a head the lag is unknown, not zero');
  });

  test('removing a node stamps it removed; an unknown node is not found, a removed one is a conflict', async (t) => {
    const s = await store(t);
    const nodes = new FleetNodeService(s.fleet, () => T0 + HOUR);
    await enroll(s, 'node-a');
    t.deepEqual(await refusal(nodes.removeNode(admin, 'node-zz')), { code: 'ALT_NOT_FOUND', status: 404, field: 'id' });
    t.is((await nodes.removeNode(admin, 'node-a')).removedAt, T0 + HOUR);
    t.deepEqual(await refusal(nodes.removeNode(admin, 'node-a')), { code: 'ALT_NODE_REMOVED', status: 409, field: 'id' });
    t.is((await nodes.listNodes(admin))[0]!.removed, '2026-12-02T13:00:00.000Z', 'still listed, as removed');
  });

  test('the routes: /nodes/tokens is never taken for a node id, and each change names its audit target', async (t) => {
    const s = await store(t);
    const routes = new ControlRoutes();
    fleetNodeRoutes(routes, new FleetNodeService(s.fleet, () => T0, () => s.headVersion()));
    await enroll(s, 'node-a');
    await enroll(s, 'tokens');
    // What the last call named for its audit record, kept also when the call is refused.
    let targets: string[] = [];
    const send = async (method: string, path: string, body: unknown = {}, operator: Operator = admin): Promise<ControlReply & { targets: string[] }> => {
      targets = [];
      const m = routes.match(method, path);
      const reply = await m.handler({ method, params: m.params, query: new URLSearchParams(), operator, body: async () => body, auditTarget: (x) => targets.push(x) });
      return { ...reply, targets };
    };

    const created = await send('POST', '/nodes/tokens', { name: 'rack-a', ttl_hours: 2 });
    t.is(created.status, 201);
    t.like(created.body, { name: 'rack-a', created: '2026-12-02T12:00:00.000Z', expires: '2026-12-02T14:00:00.000Z', created_by: 'root-ops' });
    t.regex((created.body as { token: string }).token, /^altenroll-/);
    t.deepEqual(created.targets, ['enrollment-token:rack-a']);
    t.is((await refusal(send('POST', '/nodes/tokens', { name: 'rack-b' }, payments))).code, 'ALT_FORBIDDEN');
    t.deepEqual(targets, ['enrollment-token:rack-b'], 'a refused issue is audited with what it asked for');

    const tokens = await send('GET', '/nodes/tokens');
    t.deepEqual(tokens.body, { tokens: [{ name: 'rack-a', created: '2026-12-02T12:00:00.000Z', expires: '2026-12-02T14:00:00.000Z', created_by: 'root-ops' }] });
    t.deepEqual(tokens.targets, []);

    const list = await send('GET', '/nodes');
    t.deepEqual((list.body as { nodes: { id: string }[] }).nodes.map((x) => x.id), ['node-a', 'tokens']);

    const deleted = await send('DELETE', '/nodes/tokens/rack-a');
    t.deepEqual(deleted.body, { deleted: { name: 'rack-a', created: '2026-12-02T12:00:00.000Z', expires: '2026-12-02T14:00:00.000Z', created_by: 'root-ops' } });
    t.deepEqual(deleted.targets, ['enrollment-token:rack-a']);

    // "tokens" is a valid node id: DELETE /nodes/tokens removes that node, not a token.
    const removed = await send('DELETE', '/nodes/tokens');
    t.like(removed.body, { removed: { id: 'tokens', removed: '2026-12-02T12:00:00.000Z', lag: null } });
    t.deepEqual(removed.targets, ['node:tokens']);
    t.deepEqual((await send('DELETE', '/nodes/node-a')).targets, ['node:node-a']);

    t.deepEqual(await refusal(Promise.resolve().then(() => routes.match('PUT', '/nodes/tokens'))), { code: 'ALT_METHOD_NOT_ALLOWED', status: 405, field: undefined });
    t.is((await refusal(Promise.resolve().then(() => routes.match('GET', '/nodes/tokens/rack-a/x')))).code, 'ALT_NOT_FOUND');
  });
});
