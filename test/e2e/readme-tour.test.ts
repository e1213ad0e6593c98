// The README's five-minute tour, run as a newcomer would: its shell blocks, top to bottom, in a
// clean directory, with no provider key in the environment. Each "→ `text`" in the README is a
// promise: the text must appear in the output, in order. Only the ports change (free ones, so
// the tour can run beside the rest of the suite).
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/process.js';
import { patience } from '../helpers/patience.js';

interface Tour {
  script: string;
  promises: string[];
}

/** The sh blocks after the README's tour marker, up to the next section. */
function readTour(): Tour {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const from = readme.indexOf('<!-- tour:');
  if (from < 0) throw new Error('README.md has no <!-- tour: --> marker');
  const section = readme.slice(from, readme.indexOf('\n## ', from));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  const promises = [...blocks.join('\n').matchAll(/→ `([^`]+)`/g)].map((m) => m[1]!);
  return { script: blocks.join('\n'), promises };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

test('the README tour: its blocks are there and promise what a newcomer should see', (t) => {
  const tour = readTour();
  t.true(tour.script.includes('altrace demo'));
  t.true(tour.script.includes('altrace sim'));
  t.false(/OPENAI_API_KEY=sk-(?!simulated)/.test(tour.script), 'the tour needs no real provider key');
  t.true(tour.promises.length >= 8, `promises found: ${tour.promises.join(' | ')}`);
});

test('the README tour runs top to bottom in a clean directory with no provider key', async (t) => {
  t.timeout(patience(120_000));
  const tour = readTour();
  const [proxy, control, sim] = [await freePort(), await freePort(), await freePort()];
  const script = tour.script.replace(/:8080\b/g, `:${proxy}`).replace(/:7070\b/g, `:${control}`).replace(/\b9090\b/g, String(sim));
  const dir = mkdtempSync(join(tmpdir(), 'altrace-tour-'));
  // What a clone holds after `npm ci`, and nothing else: no state, no keys, no logs.
  for (const f of ['bin', 'dist', 'node_modules', 'build', 'policies', 'package.json']) symlinkSync(join(ROOT, f), join(dir, f));
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' };
  env.ALTRACE_PROXY_PORT = String(proxy);
  env.ALTRACE_CONTROL_PORT = String(control);
  // `set -e`: a step that fails stops the tour, as it would stop a newcomer.
  const child = spawn('bash', ['-euc', script], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (out += c));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    t.is(code, 0, `the tour stopped:\n${out}`);
    let at = 0;
    for (const promise of tour.promises) {
      const found = out.indexOf(promise, at);
      t.true(found >= 0, `the tour promised "${promise}" (after what came before); it printed:\n${out}`);
      if (found >= 0) at = found + promise.length;
    }
  } finally {
    // The tour's own `kill %1 %2` stops what it started; this is for a tour that failed half-way.
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // the group is gone: the tour cleaned up after itself
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
