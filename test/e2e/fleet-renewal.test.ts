// A node's certificate is short-lived and renewed before it expires (docs/fleet.md, "Enrollment
// and identity"): here it lives 7.2 s (fleet.node_cert_hours 0.002), so the node renews at two
// thirds of that, reconnects with the new one, and keeps following past the first one's expiry.
import test from 'ava';
import OpenAI from 'openai';
import { startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { eventually } from '../helpers/harness.js';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { call, fleetMetrics, startFleet, type Fleet } from '../helpers/fleet.js';

// Read by the replica this file spawns.
process.env.ALTRACE_FLEET_NODE_CERT_HOURS = '0.002';

let pg: PostgresServer;
let fleet: Fleet;

type NodeRow = { name: string; cert_expires: string };
const certExpires = async () => Date.parse(((await (await call(fleet.replicas[0]!.controlUrl, 'GET', '/nodes')).json()) as { nodes: NodeRow[] }).nodes[0]!.cert_expires);

postgresSuite(() => {
  test.before(async () => {
    pg = await startPostgres();
    fleet = await startFleet(pg, 'fleet_renewal', { replicas: 1, nodes: 1 });
  });
  test.after.always(async () => {
    await fleet?.close();
    await pg?.stop();
  });

  test('the node renews its certificate before it expires and follows on with the new one', async (t) => {
    const node = fleet.nodes[0]!;
    const first = await certExpires();
    t.true(first - Date.now() < 8_000, 'a certificate of a few seconds');
    await eventually(async () => (await certExpires()) > first, 10_000, 'a renewed certificate recorded');
    // Past the first certificate's end: the stream (reconnected with the new one) still carries changes.
    await new Promise((r) => setTimeout(r, Math.max(0, first - Date.now() + 500)));
    const created = (await (await call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'after-renewal', team: 'ops' })).json()) as { key: string; id: string };
    await eventually(async () => (await call(node.controlUrl, 'GET', `/keys/${created.id}`)).status === 200, 5000, 'a key made after the first certificate expired reaches the node');
    const m = await fleetMetrics(node);
    t.is(m.altrace_fleet_stream_up, 1);
    t.true(m.altrace_fleet_reconnects_total! >= 1, 'it reconnected with the new certificate');
    await new OpenAI({ apiKey: created.key, baseURL: `${node.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  });
});
