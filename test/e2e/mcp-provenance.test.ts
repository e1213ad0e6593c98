// Provenance verified at launch (issue 23): a registry entry with `provenance: required` opens a
// relay of `altrace mcp wrap` only for an npm package whose SLSA provenance verifies against the
// trusted root and names the repository server.json lists; otherwise the server is never started.
// The attestations come from a registry on a loopback port (server.json's registryBaseUrl), made
// by a Sigstore instance of the tests' own (test/fixtures/sigstore-instance.ts); the launched
// server is the real @modelcontextprotocol/server-memory, through the real MCP SDK stdio client.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify as stringifyYaml } from 'yaml';
import { SigstoreInstance } from '../fixtures/sigstore-instance.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';
import { ROOT, runCli } from '../helpers/process.js';

const BIN = join(ROOT, 'bin/altrace.js');
const SCRIPT = join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js');
const PKG = '@modelcontextprotocol/server-memory';
const REPO = 'https://github.com/modelcontextprotocol/servers';
const dir = mkdtempSync(join(tmpdir(), 'altrace-mcp-provenance-'));
const version = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/package.json'), 'utf8')) as { version: string }).version;
let h: Harness;
let key: string;
let registry: Server;
/** Paths the registry was asked for. */
const asked: string[] = [];

test.before(async () => {
  const sigstore = await SigstoreInstance.start();
  const subjects = [{ name: `pkg:npm/%40modelcontextprotocol/server-memory@${version}`, sha512: 'ab'.repeat(64) }];
  const documents: Record<string, unknown> = {
    genuine: await sigstore.attestations({ subjects, repository: REPO }),
    forked: await sigstore.attestations({ subjects, repository: 'https://github.com/someone-else/servers' }),
    tampered: await sigstore.attestations({ subjects, repository: REPO, tamper: 'payload' }),
  };
  // A registry per flavour, at /<flavour>/-/npm/v1/attestations/<name>@<version>, as npm serves it.
  registry = createServer((req, res) => {
    asked.push(req.url ?? '');
    const m = /^\/(\w+)\/-\/npm\/v1\/attestations\/@modelcontextprotocol%2fserver-memory@(.+)$/.exec(req.url ?? '');
    const document = m && m[2] === version ? documents[m[1]!] : undefined;
    if (!document) return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document));
  });
  registry.listen(0, '127.0.0.1');
  await once(registry, 'listening');
  const base = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
  writeFileSync(join(dir, 'trusted-root.json'), JSON.stringify(sigstore.trustedRoot()));
  const entry = (flavour: string) => ({
    provenance: 'required',
    unapproved: 'flag',
    server: { name: 'io.github.modelcontextprotocol/server-memory', version, repository: { url: REPO, source: 'github' }, packages: [{ registryType: 'npm', registryBaseUrl: `${base}/${flavour}`, identifier: PKG, version, transport: { type: 'stdio' } }] },
  });
  const flavours = ['genuine', 'forked', 'tampered', 'unattested'];
  const policy = shippedPolicy();
  policy.destinations.upstreams.push(...flavours.map((f) => `mcp:${f}`));
  policy.mcp = { servers: Object.fromEntries(flavours.map((f) => [f, entry(f)])) };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ mcp: { servers: flavours.map((name) => ({ name, transport: 'stdio' })), provenance: { trusted_root_file: join(dir, 'trusted-root.json') } } }));
  // Written by the server's process only (NODE_OPTIONS reaches the wrap too; its argv[1] is altrace's): the proof that a refused launch never started it.
  writeFileSync(join(dir, 'marker.cjs'), `if ((process.argv[1] || '').includes('server-memory')) require('fs').writeFileSync(process.env.MARKER, 'started');\n`);
  h = await startHarness({ ALTRACE_CONFIG: join(dir, 'config.yaml'), ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'notes-bot', team: 'support' })).key;
});
test.after.always(async () => {
  await h?.close();
  registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('a launch whose provenance verifies and names the listed repository runs, and its tools are served', async (t) => {
  const client = new Client({ name: 'notes-bot', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'wrap', '--server', 'genuine', '--proxy', h.proxyUrl, '--', process.execPath, SCRIPT],
      env: { PATH: process.env.PATH ?? '', ALTRACE_KEY: key, MEMORY_FILE_PATH: join(dir, 'genuine-memory.json') },
      stderr: 'ignore',
    }),
  );
  try {
    const { tools } = await client.listTools();
    t.true(tools.some((x) => x.name === 'read_graph'), tools.map((x) => x.name).join(', '));
  } finally {
    await client.close();
  }
  t.true(asked.some((p) => p.startsWith('/genuine/-/npm/v1/attestations/')), 'the attestations were asked of the listed registry');
});

test.serial('a fork, a tampered attestation, or none: the relay is refused and the server never starts, with the reason in the audit log', async (t) => {
  const cases: [string, RegExp][] = [
    ['forked', /provenance mismatch: built from https:\/\/github\.com\/someone-else\/servers, not https:\/\/github\.com\/modelcontextprotocol\/servers/],
    ['tampered', /provenance invalid: the attestation does not verify: .*DSSE payload hash mismatch/],
    ['unattested', /provenance absent: .*\/unattested\/-\/npm\/v1\/attestations\/@modelcontextprotocol%2fserver-memory@.* has no attestations/],
  ];
  for (const [server, why] of cases) {
    const marker = join(dir, `${server}-started`);
    const r = await runCli(['mcp', 'wrap', '--server', server, '--proxy', h.proxyUrl, '--key', key, '--', process.execPath, SCRIPT], { MARKER: marker, NODE_OPTIONS: `--require ${join(dir, 'marker.cjs')}` });
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, new RegExp(`refused the relay of MCP server ${server}: 403 ALT_MCP_PROVENANCE_FAILED`), server);
    t.false(existsSync(marker), `${server}: the server was never started`);
    await h.control('GET', '/audit/checkpoint');
    const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { decision?: { reason: string; stage: string; detail?: string } }[] };
    const details = records.filter((x) => x.decision?.reason === 'ALT_MCP_PROVENANCE_FAILED').map((x) => x.decision!.detail ?? '');
    t.true(details.some((d) => d.startsWith(`npm:${PKG}@${version} for server ${server}: `) && why.test(d)), `${server}: ${details.join(' | ')}`);
  }
});

test.serial('the marker proves what it should: a wrap the registry allows does start its server', async (t) => {
  // The same launch as the refused ones, through the entry whose provenance verifies.
  const marker = join(dir, 'genuine-started');
  const client = new Client({ name: 'notes-bot', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', 'wrap', '--server', 'genuine', '--proxy', h.proxyUrl, '--', process.execPath, SCRIPT],
      env: { PATH: process.env.PATH ?? '', ALTRACE_KEY: key, MARKER: marker, NODE_OPTIONS: `--require ${join(dir, 'marker.cjs')}`, MEMORY_FILE_PATH: join(dir, 'genuine-memory.json') },
      stderr: 'ignore',
    }),
  );
  await client.close();
  t.true(existsSync(marker));
});
