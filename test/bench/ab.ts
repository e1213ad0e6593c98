// `node dist/test/bench/ab.js OTHER_CHECKOUT [B_CHECKOUT]`: this checkout's agent (B, or the
// second checkout's) against another checkout's (A, built with npm ci), both in front of one simulator, in alternating rounds
// (ABBA), so that both go through the same drift of this VM's speed. Prints B/A throughput.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT, AGENT_ENV, AGENT_NODE_FLAGS } from '../helpers/process.js';
import { ADMIN, f, issueKey, load, spawnJson, stopAll } from './common.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);

async function agentFrom(root: string, simUrl: string, stateDir: string) {
  const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, join(root, 'bin/altrace.js'), 'start'], {
    env: { ...process.env, ...AGENT_ENV, ALTRACE_PROXY_PORT: '0', ALTRACE_CONTROL_PORT: '0', ALTRACE_STATE_DIR: stateDir, ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_OPENAI_BASE_URL: `${simUrl}/v1`, OPENAI_API_KEY: 'sk-bench-real', ALTRACE_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let proxy = '';
  let control = '';
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error(`the agent in ${root} exited at start`)));
    createInterface({ input: child.stderr! }).on('line', (line) => {
      proxy ||= /^\s+proxy\s+(http:\/\/\S+)/.exec(line)?.[1] ?? '';
      control ||= /^\s+control API\s+(http:\/\/\S+)\/api\/v1/.exec(line)?.[1] ?? '';
      if (proxy && control) resolve();
    });
  });
  return { child, proxy, auth: { authorization: `Bearer ${await issueKey(control, 'ab')}` } };
}

async function main() {
  const other = process.argv[2];
  if (!other) {
    console.error('usage: node dist/test/bench/ab.js OTHER_CHECKOUT [B_CHECKOUT]   (checkouts of other commits, after npm ci in each; B defaults to this one)');
    process.exitCode = 2;
    return;
  }
  const dirs = [mkdtempSync(join(tmpdir(), 'altrace-ab-a-')), mkdtempSync(join(tmpdir(), 'altrace-ab-b-'))];
  const sim = await spawnJson('dist/test/fixtures/simulator/main.js', ['--no-record']);
  const a = await agentFrom(other, sim.info.url, dirs[0]!);
  const bRoot = process.argv[3] ?? ROOT;
  const b = await agentFrom(bRoot, sim.info.url, dirs[1]!);
  try {
    const chat = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello there' }] });
    const round = async (x: typeof a) => (await load(x.proxy, x.auth, chat, { connections: 50, seconds: SECONDS })).rps;
    await load(a.proxy, a.auth, chat, { connections: 10, seconds: 2 });
    await load(b.proxy, b.auth, chat, { connections: 10, seconds: 2 });
    let sumA = 0;
    let sumB = 0;
    const pairs: string[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const [ra, rb] = i % 2 === 0 ? [await round(a), await round(b)] : ([await round(b), await round(a)].reverse() as [number, number]);
      sumA += ra;
      sumB += rb;
      pairs.push(`${f(ra, 0)}/${f(rb, 0)}`);
    }
    console.log(`A (${other}) ${f(sumA / ROUNDS, 0)} req/s, B (${bRoot}) ${f(sumB / ROUNDS, 0)} req/s → B/A ${f(sumB / sumA, 3)}   (A/B per round, ${ROUNDS} × ${SECONDS} s, ABBA: ${pairs.join(', ')})`);
  } finally {
    a.child.kill();
    b.child.kill();
    await stopAll();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

await main();
