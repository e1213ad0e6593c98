// The configuration file is read at start; an edit on disk (a ConfigMap update reaching the
// mounted directory, through the kubelet's ..data symlink swap) is said at once: refused naming
// the field, or waiting for a restart, with a metric a dashboard can alert on.
import test from 'ava';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../helpers/harness.js';
import { spawnAgent } from '../helpers/process.js';

/** A directory laid out as the kubelet projects a ConfigMap: altrace.yaml → ..data/altrace.yaml, ..data → a timestamped directory. */
function projected(dir: string, content: string, version: number): void {
  const data = join(dir, `..2026_12_06_${version}`);
  mkdirSync(data);
  writeFileSync(join(data, 'altrace.yaml'), content);
  symlinkSync(data, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
}

test('an edit of the configuration on disk is said: a valid change waits for a restart (metric 1), an invalid one is refused naming the field, a revert clears it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-config-watch-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const configDir = join(dir, 'config');
  mkdirSync(configDir);
  const original = 'limits:\n  max_body_bytes: 1048576\n';
  projected(configDir, original, 1);
  symlinkSync('..data/altrace.yaml', join(configDir, 'altrace.yaml'));
  const logs: string[] = [];
  const agent = await spawnAgent({ ALTRACE_CONFIG: join(configDir, 'altrace.yaml'), ALTRACE_STATE_DIR: join(dir, 'state'), ALTRACE_ADMIN_TOKEN: 'config-watch-admin-token-0001', ALTRACE_LOG_LEVEL: 'info' }, logs);
  t.teardown(() => agent.stop());
  const pending = async () => Number(/^altrace_config_restart_pending (\d)/m.exec(await (await fetch(`${agent.controlUrl}/metrics`)).text())?.[1]);
  t.is(await pending(), 0);

  projected(configDir, 'limits:\n  max_body_bytes: 2097152\n', 2);
  await eventually(async () => (await pending()) === 1, 5000, 'a valid change waits for a restart');
  await eventually(() => logs.some((l) => l.includes('the configuration file changed: it takes effect at the next restart')), 5000, 'and says so in the log');

  projected(configDir, 'limits:\n  max_body_bytes: lots\n', 3);
  await eventually(() => logs.some((l) => l.includes('the configuration file on disk is invalid') && l.includes('limits.max_body_bytes')), 5000, 'the invalid edit is refused, naming the field');

  projected(configDir, original, 4);
  await eventually(async () => (await pending()) === 0, 5000, 'back to what it runs with');
  // The agent still serves with what it started with.
  t.is((await fetch(`${agent.controlUrl}/healthz`)).status, 200);
});
