// The fleet CA (docs/fleet.md, "Enrollment and identity"): one per fleet however many replicas
// start at once, its key sealed in a real PostgreSQL, and certificates that real TLS handshakes
// accept or refuse.
import test from 'ava';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { nodeIdOf } from '../../agent/src/control-plane/certificate-names.js';
import { FleetCa } from '../../agent/src/control-plane/fleet-ca.js';
import { FleetSecretError } from '../../agent/src/control-plane/seal.js';
import { DAY_MS, createCsr, exportPrivateKey, generateKeys } from '../../agent/src/pki/x509.js';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';

const SECRET = 'fleet-ca-test-secret-0123456789abcdef';
const HOUR = 3_600_000;

postgresSuite(() => {
  let pg!: PostgresServer;
  let n = 0;
  sharedPostgres((server) => (pg = server));

  async function store(t: { teardown(fn: () => Promise<void>): void }, url?: string): Promise<PgStore> {
    const s = await PgStore.open(url ?? (await pg.createDatabase(`fleet_ca_${++n}`)));
    t.teardown(() => s.close());
    return s;
  }

  /** A node's key and the certificate the CA issued for it. */
  async function enrolledNode(ca: FleetCa, id: string, lifetimeMs: number, now = Date.now()) {
    const keys = await generateKeys();
    const issued = await ca.issueNode(await createCsr(`CN=${id}`, keys), { id, name: `node ${id}` }, lifetimeMs, now);
    return { key: await exportPrivateKey(keys.privateKey), cert: issued.certPem, issued };
  }

  /** A TLS handshake from `client` to a replica's server context; what the server saw, or the error. */
  async function handshake(ca: FleetCa, client: { key: string; cert: string } | null): Promise<{ ok: true; node: string | null } | { ok: false; error: string }> {
    const server = createServer({ ...(await ca.serverCredentials(['127.0.0.1'])), requestCert: true, rejectUnauthorized: true });
    const seen = new Promise<string | null>((resolve) => server.on('secureConnection', (s: TLSSocket) => (resolve(nodeIdOf(s.getPeerCertificate())), s.end())));
    // The server's own verdict: with TLS 1.3 a client may finish its side before the refusal reaches it.
    const refused = new Promise<string>((resolve) => server.on('tlsClientError', (err: Error & { code?: string }) => resolve(err.code ?? err.message)));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const socket = connect({ host: '127.0.0.1', port, ca: ca.certPem, ...(client ?? {}) });
      socket.on('data', () => {});
      // TLS 1.3: the server's verdict on the client certificate arrives after the client's handshake ends.
      const outcome = await new Promise<{ ok: true; node: string | null } | { ok: false; error: string }>((resolve) => {
        socket.on('error', (err: Error & { code?: string }) => resolve({ ok: false, error: err.code ?? err.message }));
        seen.then((node) => resolve({ ok: true, node }));
        refused.then((error) => resolve({ ok: false, error }));
      });
      socket.destroy();
      return outcome;
    } finally {
      server.close();
    }
  }

  test('replicas that start together make one CA between them', async (t) => {
    const url = await pg.createDatabase(`fleet_ca_${++n}`);
    const stores = await Promise.all([store(t, url), store(t, url), store(t, url)]);
    const cas = await Promise.all(stores.map((s) => FleetCa.open(s.fleet, SECRET)));
    t.is(new Set(cas.map((c) => c.certPem)).size, 1);
  });

  test('a node certificate from a signed request is accepted in an mTLS handshake, and names the node', async (t) => {
    const ca = await FleetCa.open((await store(t)).fleet, SECRET);
    const node = await enrolledNode(ca, 'node-a', 24 * HOUR);
    t.true(node.issued.notAfter > Date.now() + 23 * HOUR);
    t.deepEqual(await handshake(ca, node), { ok: true, node: 'node-a' });
  });

  test('the replica refuses a client with no certificate, one from another CA, and one that expired', async (t) => {
    const ca = await FleetCa.open((await store(t)).fleet, SECRET);
    const other = await FleetCa.open((await store(t)).fleet, SECRET);
    t.false((await handshake(ca, null)).ok, 'no client certificate');
    t.false((await handshake(ca, await enrolledNode(other, 'node-x', 24 * HOUR))).ok, 'signed by another fleet');
    t.false((await handshake(ca, await enrolledNode(ca, 'node-old', HOUR, Date.now() - 2 * DAY_MS))).ok, 'expired a day ago');
  });

  test('a request whose signature does not verify, a node id that is not safe, and garbage are refused with ALT_ENROLLMENT_INVALID', async (t) => {
    const ca = await FleetCa.open((await store(t)).fleet, SECRET);
    const csr = await createCsr('CN=node-b', await generateKeys());
    // One changed byte inside the signed part.
    const body = csr.replace(/-----[^-]+-----|\s/g, '');
    const der = Buffer.from(body, 'base64');
    der[40]! ^= 0x01;
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    for (const [what, request, id] of [
      ['tampered', tampered, 'node-b'],
      ['not a CSR', 'hello', 'node-b'],
      ['unsafe id', csr, '../../etc'],
    ] as const) {
      const err = await t.throwsAsync(ca.issueNode(request, { id, name: id }, HOUR), undefined, what);
      t.is((err as { code?: string }).code, 'ALT_ENROLLMENT_INVALID', `${what}: ${err?.message}`);
    }
  });

  test('a replica given another secret cannot open the CA, and says so; a short secret is refused before anything is made', async (t) => {
    const s = await store(t);
    await FleetCa.open(s.fleet, SECRET);
    const wrong = await t.throwsAsync(FleetCa.open(s.fleet, 'another-secret-0123456789abcdefghij'));
    t.true(wrong instanceof FleetSecretError);
    t.regex(wrong!.message, /every replica must be given the same one/);
    const fresh = await store(t);
    const short = await t.throwsAsync(FleetCa.open(fresh.fleet, 'short'));
    t.is((short as { code?: string }).code, 'ALT_FLEET_CA_KEY');
    t.is((await fresh.fleet.listNodes()).length, 0);
  });

  test('enrolled nodes are recorded with their certificate, and a removed node is marked', async (t) => {
    const s = await store(t);
    const ca = await FleetCa.open(s.fleet, SECRET);
    const node = await enrolledNode(ca, 'node-c', 24 * HOUR);
    await s.fleet.putNode({ id: 'node-c', name: 'node c', certSerial: node.issued.serial, certExpiresAt: node.issued.notAfter, at: Date.now() });
    const [row] = await s.fleet.listNodes();
    t.is(row!.certSerial, node.issued.serial);
    t.is(row!.removedAt, null);
    t.true(await s.fleet.removeNode('node-c', Date.now()));
    t.false(await s.fleet.removeNode('node-c', Date.now()), 'already removed');
    t.truthy((await s.fleet.getNode('node-c'))!.removedAt);
  });
});
