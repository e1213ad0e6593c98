// Operators' certificates across control-plane replicas (issue 24, item 1): the fleet CA issues
// them through one replica, every replica accepts them, and a revocation written through one is
// refused by the other within seconds (each replica reads the revoked serials back from
// PostgreSQL every second and reloads its TLS context with the CRL). A token deleted through one
// replica is refused by the other at once.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { request } from 'node:https';
import { createCsr, exportPrivateKey, generateKeys } from '../../agent/src/pki/x509.js';
import { call, startFleet, type Fleet } from '../helpers/fleet.js';
import { eventually } from '../helpers/harness.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';
import type { PostgresServer } from '../fixtures/postgres.js';

function withCertificate(baseUrl: string, ca: string, client: { cert: string; key: string }, path: string): Promise<{ status: number; code?: string }> {
  const url = new URL(`${baseUrl}/api/v1${path}`);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname, ca, servername: 'localhost', agent: false, ...client }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, ...(text.startsWith('{') ? { code: (JSON.parse(text) as { error?: { code?: string } }).error?.code } : {}) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A replica's /metrics over its TLS, trusting the fleet CA. */
function metricsOf(baseUrl: string): Promise<string> {
  const url = new URL(`${baseUrl}/metrics`);
  return new Promise((resolve, reject) => {
    request({ host: url.hostname, port: url.port, path: url.pathname, ca: caPem, servername: 'localhost', agent: false }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(text));
    })
      .on('error', reject)
      .end();
  });
}
let caPem = '';

postgresSuite(() => {
  let pg!: PostgresServer;
  sharedPostgres((server) => (pg = server));

  test('a certificate the fleet CA issued through one replica is accepted by the other; revoked through one, refused by the other within seconds; a node certificate revoked ends the stream it has open', async (t) => {
    const fleet: Fleet = await startFleet(pg, 'fleet_mtls', { replicas: 2, nodes: 1, replicaEnv: { ALTRACE_CONTROL_TLS_ENABLED: 'true', ALTRACE_CONTROL_TLS_CLIENT_AUTH: 'optional' } });
    t.teardown(() => fleet.close());
    const [a, b] = fleet.replicas as [Fleet['replicas'][number], Fleet['replicas'][number]];
    t.true(a.controlUrl.startsWith('https:') && b.controlUrl.startsWith('https:'));
    const ca = readFileSync(fleet.caFile, 'utf8');
    caPem = ca;
    const keys = await generateKeys();
    const issued = await fleet.call(a.controlUrl, 'POST', '/certificates', { csr: await createCsr('CN=ops', keys), name: 'ops', role: 'operator', team: 'payments' });
    t.is(issued.status, 201, await issued.clone().text());
    const { certificate, serial } = (await issued.json()) as { certificate: string; serial: string };
    const client = { cert: certificate, key: await exportPrivateKey(keys.privateKey) };
    t.is((await withCertificate(b.controlUrl, ca, client, '/keys')).status, 200, 'the other replica accepts it');

    const revoked = await fleet.call(a.controlUrl, 'POST', `/certificates/${serial}/revoke`, { reason: 'rotation drill' });
    t.is(revoked.status, 200);
    const at = Date.now();
    t.like(await withCertificate(a.controlUrl, ca, client, '/keys'), { status: 401, code: 'ALT_CERT_REVOKED' }, 'at once on the replica that revoked it');
    await eventually(async () => (await withCertificate(b.controlUrl, ca, client, '/keys')).code === 'ALT_CERT_REVOKED', 5000, 'the other replica refuses it');
    const took = Date.now() - at;
    t.log(`the other replica refused the revoked certificate ${took} ms after the revocation was acknowledged`);
    t.true(took < 5000);

    // A token deleted through one replica is refused by the other on the very next call: each looks tokens up in PostgreSQL.
    const created = (await (await fleet.call(a.controlUrl, 'POST', '/tokens', { name: 'ci-bot', team: 'payments', role: 'viewer' })).json()) as { token: string };
    t.is((await call(b.controlUrl, 'GET', '/keys', undefined, created.token)).status, 200);
    t.is((await fleet.call(a.controlUrl, 'DELETE', '/tokens/ci-bot')).status, 200);
    const after = await call(b.controlUrl, 'GET', '/keys', undefined, created.token);
    t.is(after.status, 401, 'refused by the other replica at once');
    t.regex(await after.text(), /ALT_TOKEN_REVOKED.*ci-bot was deleted at/, 'reported as a revoked credential used');

    // The node stream uses the same machinery: the node's certificate revoked ends the stream it has open, and it is not let back in.
    const streams = async () => {
      let n = 0;
      for (const r of fleet.replicas) n += Number(/^altrace_fleet_node_streams (\d+)/m.exec(await metricsOf(r.controlUrl))?.[1] ?? 0);
      return n;
    };
    await eventually(async () => (await streams()) === 1, 10_000, 'the node streams');
    const identity = JSON.parse(readFileSync(join(fleet.nodes[0]!.stateDir, 'fleet', 'node-identity.json'), 'utf8')) as { certPem: string };
    const nodeSerial = new X509Certificate(identity.certPem).serialNumber;
    t.is((await fleet.call(a.controlUrl, 'POST', `/certificates/${nodeSerial.toLowerCase()}/revoke`, { reason: 'node decommissioned' })).status, 200);
    await eventually(async () => (await streams()) === 0, 10_000, 'its open stream ends');
    // The revoked certificate is never let back in; the node, holding a valid enrollment credential, enrolls
    // again for a new one (keeping a node out is `altrace nodes remove` and its enrollment credential revoked).
    const serialNow = () => new X509Certificate((JSON.parse(readFileSync(join(fleet.nodes[0]!.stateDir, 'fleet', 'node-identity.json'), 'utf8')) as { certPem: string }).certPem).serialNumber;
    await eventually(async () => (await streams()) === 1, 20_000, 'back with a new certificate');
    t.not(serialNow(), nodeSerial, 'a new certificate, not the revoked one');
  });
});
