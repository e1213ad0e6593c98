import test from 'ava';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeCa } from '../../agent/src/node/ca.js';
import { createCaCertificate, exportPrivateKey, generateKeys, signLeaf } from '../../agent/src/pki/x509.js';
import { listenTransparent, type TlsAction } from '../../proxy/src/listen/transparent.js';

const TIMEOUTS = { headersTimeoutMs: 20_000, requestTimeoutMs: 300_000 };

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-ca-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('the node CA is made once, kept (key 0600), and reloaded as the same CA', async (t) => {
  const dir = tempDir(t);
  const a = await NodeCa.open(dir);
  t.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  const b = await NodeCa.open(dir);
  t.is(a.certPem, b.certPem);
  t.true(a.certificate().ca);
});

// The transparent listener on loopback, no BPF: TLS terminated with a leaf for the name the
// client asked for, verified by a client that trusts the CA and by no other.
test('TLS is terminated with a leaf for the SNI, or for the address when the client sent none', async (t) => {
  const ca = await NodeCa.open(tempDir(t));
  const decisions: (string | null)[] = [];
  const listener = await listenTransparent('127.0.0.1', 0, (req, res) => res.end(`hello ${req.url}`), {
    timeouts: TIMEOUTS,
    lookup: () => ({ address: '127.0.0.1', port: 443, cgroupId: 1n, netnsCookie: 1n }),
    tls: (origin, sni): TlsAction => {
      decisions.push(sni);
      return { action: 'terminate', context: ca.contextFor(sni ?? origin!.address) };
    },
  });
  t.teardown(() => listener.close(0));
  const get = (servername: string | undefined, trust: string | undefined) =>
    new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: listener.port, path: '/v1/models', servername, ca: trust, headers: servername ? { host: servername } : {} }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end();
    });
  t.is(await get('api.openai.com', ca.certPem), 'hello /v1/models');
  t.is(await get(undefined, ca.certPem), 'hello /v1/models', 'an address-only client verifies the IP in the leaf');
  await t.throwsAsync(get('api.openai.com', undefined), { message: /self.signed|unable to (get|verify)/ });
  t.deepEqual(decisions, ['api.openai.com', null, 'api.openai.com']);
  // The same name is served from the cache: one leaf per name.
  const peer = await new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: listener.port, servername: 'api.openai.com', ca: ca.certPem }, () => {
      resolve(s.getPeerX509Certificate()!.serialNumber);
      s.destroy();
    });
    s.on('error', reject);
  });
  const again = await new Promise<string>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port: listener.port, servername: 'api.openai.com', ca: ca.certPem }, () => {
      resolve(s.getPeerX509Certificate()!.serialNumber);
      s.destroy();
    });
    s.on('error', reject);
  });
  t.is(peer, again);
});

test('refuse closes the connection; plain HTTP is served as before', async (t) => {
  const listener = await listenTransparent('127.0.0.1', 0, (_req, res) => res.end('plain'), { timeouts: TIMEOUTS, lookup: () => null, tls: () => ({ action: 'refuse' }) });
  t.teardown(() => listener.close(0));
  const plain = await fetch(`http://127.0.0.1:${listener.port}/x`);
  t.is(await plain.text(), 'plain');
  const err = await new Promise<Error>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: listener.port, servername: 'api.openai.com', rejectUnauthorized: false }, () => resolve(new Error('handshake completed')));
    s.on('error', resolve);
  });
  t.regex(err.message, /socket disconnected|ECONNRESET|closed/i);
});

test('passthrough relays the TLS bytes, untouched, to the original destination', async (t) => {
  const { createServer } = await import('node:net');
  const got: Buffer[] = [];
  const origin = createServer((s) => s.on('data', (d: Buffer) => (got.push(d), s.end())));
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.teardown(() => void origin.close());
  const port = (origin.address() as { port: number }).port;
  const listener = await listenTransparent('127.0.0.1', 0, (_req, res) => res.end(), {
    timeouts: TIMEOUTS,
    lookup: () => ({ address: '127.0.0.1', port, cgroupId: 1n, netnsCookie: 1n }),
    tls: () => ({ action: 'passthrough' }),
  });
  t.teardown(() => listener.close(0));
  await new Promise<void>((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port: listener.port, servername: 'api.anthropic.com', rejectUnauthorized: false });
    s.on('error', () => resolve());
    s.on('close', () => resolve());
  });
  const first = Buffer.concat(got);
  t.is(first[0], 0x16, 'a TLS handshake record arrived at the origin');
  const { serverName } = await import('../../proxy/src/listen/transparent.js');
  t.is(serverName(first), 'api.anthropic.com');
});

// One interception CA for the fleet (node.ca_cert_file / node.ca_key_file, a Secret's tls.crt and
// tls.key): two nodes loading the same files issue leaves a client trusting that one CA accepts.
test('a fleet CA from files (PKCS#8 or SEC1 key) signs leaves that chain to it; a wrong file is refused naming it', async (t) => {
  const dir = tempDir(t);
  const keys = await generateKeys();
  const cert = await createCaCertificate('CN=Altrace fleet interception CA', 30, keys);
  const certFile = join(dir, 'tls.crt');
  writeFileSync(certFile, cert.toString('pem'));
  const pkcs8 = await exportPrivateKey(keys.privateKey);
  writeFileSync(join(dir, 'pkcs8.key'), pkcs8);
  writeFileSync(join(dir, 'sec1.key'), createPrivateKey(pkcs8).export({ type: 'sec1', format: 'pem' }));
  const nodes = [await NodeCa.fromFiles(certFile, join(dir, 'pkcs8.key')), await NodeCa.fromFiles(certFile, join(dir, 'sec1.key'))];
  for (const [i, ca] of nodes.entries()) {
    const server = createTlsServer({ SNICallback: (name, cb) => void ca.contextFor(name).then((c) => cb(null, c), cb) }, (s) => s.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    t.teardown(() => server.close());
    const port = (server.address() as AddressInfo).port;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'api.openai.com', ca: readFileSync(certFile, 'utf8') }, () => s.once('data', (d: Buffer) => resolve(d.toString())));
      s.on('error', reject);
    });
    t.is(reply, 'ok', `node ${i}'s leaf verifies against the one fleet CA`);
  }

  const other = await generateKeys();
  writeFileSync(join(dir, 'other.key'), await exportPrivateKey(other.privateKey));
  const leaf = await signLeaf({ cert, key: keys.privateKey }, { subject: 'CN=leaf', names: [{ type: 'dns', value: 'x' }], usage: 'server', publicKey: other.publicKey, notBefore: Date.now() - 1000, notAfter: Date.now() + 86_400_000 });
  writeFileSync(join(dir, 'leaf.crt'), leaf.toString('pem'));
  writeFileSync(join(dir, 'rsa.key'), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }));
  writeFileSync(join(dir, 'garbage.crt'), 'not a certificate');
  const refused = async (c: string, k: string, field: string, message: RegExp) => {
    const err = await t.throwsAsync(NodeCa.fromFiles(join(dir, c), join(dir, k)));
    t.is((err as { field?: string }).field, field, `${c} + ${k}`);
    t.regex(err!.message, message);
  };
  await refused('tls.crt', 'other.key', 'node.ca_key_file', /not the key of the certificate/);
  await refused('leaf.crt', 'other.key', 'node.ca_cert_file', /not a CA certificate/);
  await refused('tls.crt', 'rsa.key', 'node.ca_key_file', /rsa key.*ECDSA P-256/);
  await refused('garbage.crt', 'pkcs8.key', 'node.ca_cert_file', /not a PEM certificate/);
  await refused('missing.crt', 'pkcs8.key', 'node.ca_cert_file', /ENOENT/);
});
