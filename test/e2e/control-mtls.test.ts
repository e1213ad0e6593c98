// The control API over mutual TLS (issue 24, item 1): a single node with control.tls on and
// client certificates required. The first certificate is issued offline from the node's own
// control CA; the rest through the API, from requests made with keys that never leave the
// operator. Refused, each with its code and an audit record: no certificate, one from another
// CA, a fleet node's, a revoked one (on a new connection and on one already open), a broken
// handshake. A certificate's subject is who the caller is: its role and team decide.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent as HttpsAgent } from 'node:https';
import { x509 } from '../../agent/src/pki/x509.js';
import { createCsr, exportPrivateKey, generateKeys } from '../../agent/src/pki/x509.js';
import { FleetCa } from '../../agent/src/control-plane/fleet-ca.js';
import { eventually } from '../helpers/harness.js';
import { runCli, spawnAgent, type AgentProcess } from '../helpers/process.js';

const ADMIN_TOKEN = 'mtls-admin-token-00000000001';
let dir: string;
let agent: AgentProcess;
let port: number;
let ca: string;
const certs = (name: string) => ({ cert: readFileSync(join(dir, 'certs', `${name}.crt`), 'utf8'), key: readFileSync(join(dir, 'certs', `${name}.key`), 'utf8') });

type Reply = { status: number; code?: string; message?: string; body: Record<string, unknown> };

/** One call over TLS, verifying the server by the control CA, with `client` as the certificate (or none). */
function call(path: string, client: { cert: string; key: string } | null, o: { method?: string; body?: unknown; token?: string; agent?: HttpsAgent; root?: boolean } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const data = o.body === undefined ? undefined : JSON.stringify(o.body);
    const req = request(
      { host: '127.0.0.1', port, path: o.root ? path : `/api/v1${path}`, method: o.method ?? 'GET', ca, servername: 'localhost', ...(client ?? {}), ...(o.agent ? { agent: o.agent } : { agent: false }), headers: { ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...(data ? { 'content-type': 'application/json' } : {}) } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          const body = text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {};
          const error = body.error as { code?: string; message?: string } | undefined;
          resolve({ status: res.statusCode!, body, ...(error?.code ? { code: error.code, message: error.message } : {}) });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const cliEnv = () => ({ ALTRACE_URL: `https://localhost:${port}`, ALTRACE_CA_FILE: join(dir, 'certs', 'ca.crt'), ALTRACE_CERT_FILE: join(dir, 'certs', 'root.crt'), ALTRACE_CERT_KEY_FILE: join(dir, 'certs', 'root.key'), ALTRACE_TOKEN: '', ALTRACE_ADMIN_TOKEN: '', ALTRACE_STATE_DIR: join(dir, 'nowhere') });

test.before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'altrace-mtls-'));
  const state = join(dir, 'state');
  // The first certificate, before the agent starts: offline, from the node's own control CA.
  const first = await runCli(['certs', 'issue', 'root', '--role', 'admin', '--offline', '--out', join(dir, 'certs')], { ALTRACE_STATE_DIR: state });
  if (first.code !== 0) throw new Error(first.stderr);
  ca = readFileSync(join(dir, 'certs', 'ca.crt'), 'utf8');
  agent = await spawnAgent({ ALTRACE_STATE_DIR: state, ALTRACE_ADMIN_TOKEN: ADMIN_TOKEN, ALTRACE_CONTROL_TLS_ENABLED: 'true', ALTRACE_CONTROL_TLS_CLIENT_AUTH: 'required', ALTRACE_CONTROL_CALLS_PER_MINUTE: '0', ALTRACE_LOG_LEVEL: 'warn' });
  port = Number(new URL(agent.controlUrl).port);
});

test.after.always(async () => {
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test.serial('the control API speaks TLS only; without a certificate a call is refused even with the admin token', async (t) => {
  t.true(agent.controlUrl.startsWith('https://'));
  const bare = await call('/keys', null, { token: ADMIN_TOKEN });
  t.like(bare, { status: 401, code: 'ALT_CERT_REQUIRED' });
  const root = await call('/keys', certs('root'));
  t.is(root.status, 200, 'the offline admin certificate');
  t.is((await call('/healthz', null, { root: true })).status, 200, 'probes need no certificate');
});

test.serial('certificates issued through the API from the operator’s own request; the subject’s role and team decide', async (t) => {
  const issue = async (name: string, role: string, team?: string) => {
    const r = await runCli(['certs', 'issue', name, '--role', role, ...(team ? ['--team', team] : []), '--out', join(dir, 'certs'), '--json'], cliEnv());
    t.is(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { serial: string }).serial;
  };
  await issue('pat', 'operator', 'payments');
  await issue('vic', 'viewer', 'payments');
  const mine = await call('/keys', certs('pat'), { method: 'POST', body: { agent: 'refund-bot', team: 'payments' } });
  t.is(mine.status, 201, JSON.stringify(mine.body));
  t.like(await call('/keys', certs('pat'), { method: 'POST', body: { agent: 'ledger-bot', team: 'ledger' } }), { status: 403, code: 'ALT_FORBIDDEN' }, 'its team only');
  t.like(await call('/keys', certs('vic'), { method: 'POST', body: { agent: 'refund-bot-2', team: 'payments' } }), { status: 403, code: 'ALT_FORBIDDEN' }, 'a viewer reads, never writes');
  t.is((await call('/keys', certs('vic'))).status, 200);
  // The certificate routes: issuing, listing and revoking are the admin's; the CRL any reader's.
  t.like(await call('/certificates', certs('pat'), { method: 'POST', body: {} }), { status: 403, code: 'ALT_FORBIDDEN' });
  t.like(await call('/certificates', certs('vic')), { status: 403, code: 'ALT_FORBIDDEN' });
  t.like(await call('/certificates/00ab/revoke', certs('pat'), { method: 'POST', body: {} }), { status: 403, code: 'ALT_FORBIDDEN' });
  t.is((await call('/certificates/crl', certs('vic'))).status, 200);
  // The key never left the operator's directory: the server saw only the request.
  const listed = (await call('/certificates', certs('root'))).body.certificates as { name: string; role: string; team: string | null; issued_by: string }[];
  t.like(listed.find((c) => c.name === 'pat'), { role: 'operator', team: 'payments', issued_by: 'root' });
  // The audit log names the certificate's operator as the actor.
  const audit = (await call('/audit?limit=200', certs('root'))).body.records as { control?: { operator: string; action: string } }[];
  t.true(audit.some((r) => r.control?.operator === 'pat' && r.control.action.startsWith('POST /keys')));
});

test.serial('another CA’s certificate, a fleet node’s, or one naming no role: refused with ALT_CERT_INVALID', async (t) => {
  const other = await FleetCa.openLocal(join(dir, 'other-ca'));
  const keys = await generateKeys();
  const foreign = await other.issueOperator(await createCsr('CN=mallory', keys), { name: 'mallory', role: 'admin', team: null }, 3_600_000);
  const key = await exportPrivateKey(keys.privateKey);
  const refused = await call('/keys', { cert: foreign.certPem, key });
  t.like(refused, { status: 401, code: 'ALT_CERT_INVALID' });
  t.regex(refused.message!, /not accepted: UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|not accepted/);
  // The node's own CA signs a node certificate: right CA, wrong kind of identity.
  const own = await FleetCa.openLocal(join(dir, 'state', 'control-ca'));
  const nodeKeys = await generateKeys();
  const node = await own.issueNode(await createCsr('CN=node-a', nodeKeys), { id: 'node-a', name: 'node-a' }, 3_600_000);
  const asNode = await call('/keys', { cert: node.certPem, key: await exportPrivateKey(nodeKeys.privateKey) });
  t.like(asNode, { status: 401, code: 'ALT_CERT_INVALID' });
  t.regex(asNode.message!, /fleet node/);
  // The right CA, the right subject, but expired.
  const oldKeys = await generateKeys();
  const expired = await own.issueOperator(await createCsr('CN=old', oldKeys), { name: 'old', role: 'admin', team: null }, 86_400_000, Date.now() - 3 * 86_400_000);
  const late = await call('/keys', { cert: expired.certPem, key: await exportPrivateKey(oldKeys.privateKey) });
  t.like(late, { status: 401, code: 'ALT_CERT_INVALID' });
  t.regex(late.message!, /CERT_HAS_EXPIRED/);
});

test.serial('a revoked certificate is refused at once, on a new connection and on one already open; the CRL lists it', async (t) => {
  const held = new HttpsAgent({ keepAlive: true, ca, ...certs('pat'), servername: 'localhost' });
  t.teardown(() => held.destroy());
  t.is((await call('/keys', certs('pat'), { agent: held })).status, 200, 'a kept-alive connection, open before the revocation');
  const serial = new x509.X509Certificate(certs('pat').cert).serialNumber;
  const revoked = await runCli(['certs', 'revoke', serial, '--reason', 'laptop lost'], cliEnv());
  t.is(revoked.code, 0, revoked.stderr);
  t.like(await call('/keys', certs('pat')), { status: 401, code: 'ALT_CERT_REVOKED' });
  t.like(await call('/keys', certs('pat'), { agent: held }), { status: 401, code: 'ALT_CERT_REVOKED' }, 'the open connection too');
  const crl = new x509.X509Crl((await call('/certificates/crl', certs('root'))).body.crl as string);
  t.true(crl.entries.some((e) => e.serialNumber.replace(/^0+/, '') === serial.replace(/^0+/, '')));
  t.true(await crl.verify({ publicKey: await new x509.X509Certificate(ca).publicKey.export() }), 'signed by the control CA');
  const again = await runCli(['certs', 'revoke', serial], cliEnv());
  t.is(again.code, 1, 'revoking twice is refused');
  t.regex(again.stderr, /revoked already/);
});

test.serial('every refusal is an audit record; a broken handshake is one too, until its source is locked out: a flood costs a few records, not one each', async (t) => {
  // Not TLS at all, on the TLS port, 40 times from 127.0.0.2: each handshake fails before any request.
  for (let i = 0; i < 40; i++) {
    await new Promise<void>((resolve) => {
      const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' }, () => s.end('GET /api/v1/keys HTTP/1.1\r\nhost: x\r\n\r\n'));
      s.on('close', () => resolve());
      s.on('error', () => resolve());
    });
  }
  type Rec = { control?: { operator: string; action: string; target?: string; error?: string; status: number } };
  await eventually(async () => ((await call('/audit?limit=1000', certs('root'))).body.records as Rec[]).some((r) => r.control?.action === 'LOCKOUT' && r.control.target === '127.0.0.2'), 5000, 'the source is locked out');
  const records = (await call('/audit?limit=1000', certs('root'))).body.records as Rec[];
  const handshakes = records.filter((r) => r.control?.action.startsWith('TLS handshake') && r.control.target === '127.0.0.2');
  t.true(handshakes.length >= 1 && handshakes.length <= 20, `${handshakes.length} handshake records for 40 broken handshakes (the lockout allows 20 a minute)`);
  for (const code of ['ALT_CERT_REQUIRED', 'ALT_CERT_INVALID', 'ALT_CERT_REVOKED']) t.true(records.some((r) => r.control?.error === code && r.control.operator === '(unauthenticated)' && r.control.status === 401), code);
});
