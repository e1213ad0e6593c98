// The agent's provenance gate (mcp.provenance): the offline cache first, then the package's
// registry (a real HTTP server on loopback), verified against the configured trusted root; what
// verified is remembered, a refusal for a while, a registry that failed not at all.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { attestationsUrl, provenanceGate } from '../../agent/src/mcp/provenance-gate.js';
import { ConfigError } from '../../agent/src/errors.js';
import { createLogger } from '../../proxy/src/index.js';
import { SigstoreInstance } from '../fixtures/sigstore-instance.js';

const PKG = '@acme/mcp-notes';
const REPO = 'https://github.com/acme/mcp-notes';
const logger = createLogger('silent');
const launched = { registryType: 'npm' as const, identifier: PKG, version: '1.4.2' };
const subjects = [{ name: 'pkg:npm/%40acme/mcp-notes@1.4.2', sha512: 'cd'.repeat(64) }];

test('npm\'s attestations path: the scope\'s slash escaped, the version after @', (t) => {
  t.is(attestationsUrl('https://registry.npmjs.org/', '@acme/mcp-notes', '1.4.2'), 'https://registry.npmjs.org/-/npm/v1/attestations/@acme%2fmcp-notes@1.4.2');
  t.is(attestationsUrl('http://127.0.0.1:9/npm', 'left-pad', '1.3.0'), 'http://127.0.0.1:9/npm/-/npm/v1/attestations/left-pad@1.3.0');
});

test('the cache is read first; the registry answers what it lacks; a verified answer is remembered, a refusal asked again only later, a failing registry at once', async (t) => {
  const sigstore = await SigstoreInstance.start();
  const dir = mkdtempSync(join(tmpdir(), 'altrace-provenance-gate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'root.json'), JSON.stringify(sigstore.trustedRoot()));
  const genuine = await sigstore.attestations({ subjects, repository: REPO });
  let status = 200;
  let hits = 0;
  const registry = createServer((req, res) => {
    hits++;
    if (status !== 200) return void res.writeHead(status).end();
    res.writeHead(req.url === '/-/npm/v1/attestations/@acme%2fmcp-notes@1.4.2' ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(genuine));
  });
  registry.listen(0, '127.0.0.1');
  await once(registry, 'listening');
  t.teardown(() => registry.close());
  const base = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;

  // Cache only (fetch off): absent, then present.
  const cacheDir = join(dir, 'cache');
  const offline = provenanceGate({ cache_dir: cacheDir, fetch: false, trusted_root_file: join(dir, 'root.json'), timeout_ms: 1000 }, logger);
  const none = await offline(launched, REPO, base);
  t.false(none.ok);
  t.regex(none.detail, /provenance absent: no attestation in the cache .* mcp\.provenance\.fetch is off/);
  t.is(hits, 0, 'fetch off: the registry is never asked');
  mkdirSync(join(cacheDir, '@acme'), { recursive: true });
  writeFileSync(join(cacheDir, '@acme', 'mcp-notes@1.4.2.json'), JSON.stringify(genuine));
  const cachedGate = provenanceGate({ cache_dir: cacheDir, fetch: false, trusted_root_file: join(dir, 'root.json'), timeout_ms: 1000 }, logger);
  const fromCache = await cachedGate(launched, REPO, base);
  t.true(fromCache.ok, fromCache.detail);
  t.regex(fromCache.detail, /^provenance ok \(cache\): pkg:npm\/%40acme\/mcp-notes@1\.4\.2 built from https:\/\/github\.com\/acme\/mcp-notes$/);

  // The registry: verified once, then remembered (no second request).
  const online = provenanceGate({ fetch: true, trusted_root_file: join(dir, 'root.json'), timeout_ms: 1000 }, logger);
  t.true((await online(launched, REPO, base)).ok);
  const again = online(launched, REPO, base);
  t.false(again instanceof Promise, 'a verified version is answered from memory, synchronously');
  t.is(hits, 1);
  // Held to another repository: a mismatch, remembered for a while (asked again only later).
  const fork = await online(launched, 'https://github.com/acme/other', base);
  t.false(fork.ok);
  t.regex(fork.detail, /provenance mismatch: built from https:\/\/github\.com\/acme\/mcp-notes, not https:\/\/github\.com\/acme\/other/);
  t.is(hits, 2);
  t.false((online(launched, 'https://github.com/acme/other', base) as { ok: boolean }).ok);
  t.is(hits, 2, 'the refusal came from memory');
  // A registry that fails is not remembered: the next launch asks again.
  status = 503;
  const failed = await online({ ...launched, version: '1.4.3' }, REPO, base);
  t.false(failed.ok);
  t.regex(failed.detail, /provenance could not be read: .* answered 503/);
  status = 200;
  const later = await online({ ...launched, version: '1.4.3' }, REPO, base);
  t.regex(later.detail, /provenance absent: .*@acme%2fmcp-notes@1\.4\.3 has no attestations/, 'asked again, and answered this time');
  t.is(hits, 4);
});

test('a trusted root that cannot be read stops the start, naming the setting', (t) => {
  const e = t.throws(() => provenanceGate({ fetch: true, trusted_root_file: '/nonexistent/root.json', timeout_ms: 1000 }, logger), { instanceOf: ConfigError });
  t.regex(e!.message, /mcp\.provenance\.trusted_root_file \/nonexistent\/root\.json/);
});

test('a registry that does not answer in time refuses, without waiting longer', async (t) => {
  const sigstore = await SigstoreInstance.start();
  const dir = mkdtempSync(join(tmpdir(), 'altrace-provenance-slow-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'root.json'), JSON.stringify(sigstore.trustedRoot()));
  const silent = createServer(() => {});
  silent.listen(0, '127.0.0.1');
  await once(silent, 'listening');
  t.teardown(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const gate = provenanceGate({ fetch: true, trusted_root_file: join(dir, 'root.json'), timeout_ms: 300 }, logger);
  const t0 = Date.now();
  const r = await gate(launched, REPO, `http://127.0.0.1:${(silent.address() as AddressInfo).port}`);
  t.false(r.ok);
  t.regex(r.detail, /provenance could not be read/);
  t.true(Date.now() - t0 < 5_000, 'bounded by timeout_ms, not by the test');
});

test('a registry that streams more than an attestations document is cut off, however it declares its length', async (t) => {
  const sigstore = await SigstoreInstance.start();
  const dir = mkdtempSync(join(tmpdir(), 'altrace-provenance-big-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'root.json'), JSON.stringify(sigstore.trustedRoot()));
  let sent = 0;
  const flood = createServer((_req, res) => {
    // Chunked, no content-length: 64 KiB at a time until the client stops reading.
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const more = (): void => {
      while (sent < 64 * 2 ** 20 && !res.destroyed) {
        sent += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    res.on('close', () => (sent = Infinity));
    more();
  });
  flood.listen(0, '127.0.0.1');
  await once(flood, 'listening');
  t.teardown(() => {
    flood.closeAllConnections();
    flood.close();
  });
  const gate = provenanceGate({ fetch: true, trusted_root_file: join(dir, 'root.json'), timeout_ms: 5000 }, logger);
  const r = await gate(launched, REPO, `http://127.0.0.1:${(flood.address() as AddressInfo).port}`);
  t.false(r.ok);
  t.regex(r.detail, /provenance could not be read: .* more than 4194304 bytes/);
});
