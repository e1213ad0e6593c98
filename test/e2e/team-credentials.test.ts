// Credentials per team (issue 24, item 5, part): team A's agents are billed to team A's key — the
// simulated provider records which credential arrived — from the credentials file and from a
// secret mount; another team falls back to the shared key; no API, log or error shows a key.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { REAL_KEYS, startHarness, type Harness } from '../helpers/harness.js';
import { ROOT } from '../helpers/process.js';

const dir = mkdtempSync(join(tmpdir(), 'altrace-team-credentials-'));
const PAYMENTS_KEY = 'sk-payments-team-0000000000000000000000000000';
const RESEARCH_KEY = 'sk-research-team-000000000000000000000000000';
let h: Harness;

test.before(async () => {
  writeFileSync(join(dir, 'credentials.yaml'), stringifyYaml({ 'openai@payments': PAYMENTS_KEY }));
  mkdirSync(join(dir, 'secrets'));
  // A Kubernetes secret key cannot hold '@': the mount names the team's key openai.team.research.
  writeFileSync(join(dir, 'secrets', 'openai.team.research'), RESEARCH_KEY);
  h = await startHarness({ ALTRACE_CREDENTIALS_FILE: join(dir, 'credentials.yaml'), ALTRACE_CREDENTIALS_DIR: join(dir, 'secrets') });
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function chatAs(team: string): Promise<string | undefined> {
  const { key } = await h.createKey({ agent: `${team}-bot`, team });
  await new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  return h.sim.last()!.headers.authorization as string | undefined;
}

test.serial("each team's agents reach the provider with their team's key; a team without one uses the shared key", async (t) => {
  t.is(await chatAs('payments'), `Bearer ${PAYMENTS_KEY}`);
  t.is(await chatAs('research'), `Bearer ${RESEARCH_KEY}`);
  t.is(await chatAs('ops'), `Bearer ${REAL_KEYS.openai}`);
});

test.serial('no control-API answer and no log line carries a key', async (t) => {
  for (const path of ['/keys', '/agents', '/spend?by=team', '/audit?limit=1000']) {
    const text = await (await h.control('GET', path)).text();
    for (const k of [PAYMENTS_KEY, RESEARCH_KEY, REAL_KEYS.openai]) t.false(text.includes(k), `${path} shows a key`);
  }
  const logs = h.logs.join('');
  for (const k of [PAYMENTS_KEY, RESEARCH_KEY]) t.false(logs.includes(k), 'a log line shows a team key');
});

test.serial("a team's key stored with the CLI (`altrace credentials set openai@growth`, the key on stdin) is encrypted at rest and used for that team", async (t) => {
  const state = mkdtempSync(join(tmpdir(), 'altrace-team-store-'));
  t.teardown(() => rmSync(state, { recursive: true, force: true }));
  const GROWTH_KEY = 'sk-growth-team-00000000000000000000000000000';
  const cli = (args: string[], stdin = '') => {
    const child = spawn(process.execPath, [join(ROOT, 'bin/altrace.js'), 'credentials', ...args], { env: { ...process.env, ALTRACE_STATE_DIR: state }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d));
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.stdin.end(stdin);
    return once(child, 'close').then(([code]: unknown[]) => ({ code: code as number, out }));
  };
  const set = await cli(['set', 'openai@growth'], `${GROWTH_KEY}\n`);
  t.is(set.code, 0, set.out);
  t.false(set.out.includes(GROWTH_KEY), 'the key is not echoed');
  t.regex((await cli(['list'])).out, /openai@growth/);
  t.false(readFileSync(join(state, 'credentials.enc')).includes(Buffer.from(GROWTH_KEY)), 'encrypted at rest');
  const team = await startHarness({ ALTRACE_STATE_DIR: state });
  t.teardown(() => team.close());
  const { key } = await team.createKey({ agent: 'growth-bot', team: 'growth' });
  await new OpenAI({ apiKey: key, baseURL: `${team.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  t.is(team.sim.last()!.headers.authorization, `Bearer ${GROWTH_KEY}`, "the growth team's own key reached the provider");
});
