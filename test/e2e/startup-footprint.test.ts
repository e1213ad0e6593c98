// What a single node loads at start (issue 25, memory): the Kubernetes client (~30 MB of heap)
// and the X.509 library (~5 MB) are loaded only where they are used — Kubernetes on, TLS
// terminated for redirected connections, control.tls, a fleet certificate asked for.
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT, spawnAgent } from '../helpers/process.js';

test('a single node starts without loading the Kubernetes client or the X.509 library', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-footprint-'));
  const trace = join(dir, 'packages.txt');
  const agent = await spawnAgent({
    ALTRACE_STATE_DIR: join(dir, 'state'),
    ALTRACE_ADMIN_TOKEN: 'altop-footprint-admin-token-0000',
    OPENAI_API_KEY: 'sk-footprint',
    ALTRACE_TEST_PACKAGE_TRACE: trace,
    NODE_OPTIONS: `--import ${pathToFileURL(join(ROOT, 'dist/test/fixtures/package-trace.js')).href}`,
  });
  try {
    const health = await fetch(`${agent.controlUrl}/healthz`);
    t.is(health.status, 200);
    const loaded = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
    // The trace works: what every start needs is in it.
    t.true(loaded.includes('undici') && loaded.includes('piscina'), loaded.join(', '));
    t.false(loaded.includes('@kubernetes/client-node'), 'the Kubernetes client was loaded');
    t.false(loaded.includes('@peculiar/x509'), 'the X.509 library was loaded');
  } finally {
    await agent.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
