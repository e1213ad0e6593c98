// The CLI as a new user meets it on a clean clone (issue 17): the version, help for one command,
// a key's cost center, values the server refuses, where the operator token was looked for, what
// unkill released, an agent started with no provider credential, and a pipe closed early.
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { spawn, spawnSync } from 'node:child_process';
import OpenAI from 'openai';
import { ROOT, runCli, spawnAgent, type AgentProcess, type ChildEnv } from '../helpers/process.js';

const ADMIN = 'altop-cli-test-admin-0000000000001';
/** Every source of a provider credential the agent reads, removed: a machine with no keys. */
const CREDENTIAL_SOURCES = [
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'AZURE_OPENAI_API_KEY',
  'AZURE_OPENAI_ENDPOINT',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_BEARER_TOKEN_BEDROCK',
  'ALTRACE_BEDROCK_AWS_CHAIN',
  'ALTRACE_CREDENTIALS_FILE',
  'ALTRACE_CREDENTIALS_DIR',
  'LOCAL_LLM_KEY',
  'DOCS_MCP_TOKEN',
];
const CONFIG = `
providers:
  compatible:
    - { name: local-llm, base_url: "http://127.0.0.1:9/v1", models: ["local-*"], api_key_env: LOCAL_LLM_KEY }
mcp:
  servers:
    - { name: docs, url: "http://127.0.0.1:9/mcp", api_key_env: DOCS_MCP_TOKEN }
`;

let dir: string;
let agent: AgentProcess;

test.before(async () => {
  dir = realpathSync(mkdtempSync(join(tmpdir(), 'altrace-cli-')));
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  const env: ChildEnv = Object.fromEntries(CREDENTIAL_SOURCES.map((v) => [v, undefined]));
  agent = await spawnAgent({ ...env, ALTRACE_STATE_DIR: join(dir, 'state'), ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_CONFIG: join(dir, 'config.yaml') });
});
test.after.always(async () => {
  await agent?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, { ALTRACE_URL: agent.controlUrl, ALTRACE_TOKEN: ADMIN });

/** The command names of the top-level help's "Commands:" list. */
function commandsOf(help: string): string[] {
  const list = help.slice(help.indexOf('Commands:'), help.indexOf('\n\n', help.indexOf('Commands:')));
  return [...list.matchAll(/^ {2}([a-z][a-z-]*)/gm)].map((m) => m[1]!);
}

test('altrace --version, -V and version print the package version', async (t) => {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = await runCli(args);
    t.is(r.code, 0, args.join(' '));
    t.is(r.stdout, `${version}\n`, args.join(' '));
  }
  const json = await runCli(['version', '--json']);
  t.deepEqual(JSON.parse(json.stdout), { version });
});

test('kubectl-altrace (the kubectl plugin npm installs beside it) is the same CLI', async (t) => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  t.is(pkg.bin['kubectl-altrace'], 'bin/kubectl-altrace.js');
  const plugin = spawnSync(process.execPath, [join(ROOT, pkg.bin['kubectl-altrace']!), 'bpf', '--help'], { encoding: 'utf8' });
  t.is(plugin.status, 0, plugin.stderr);
  t.is(plugin.stdout, (await runCli(['bpf', '--help'])).stdout);
  t.is(spawnSync(process.execPath, [join(ROOT, pkg.bin['kubectl-altrace']!), 'no-such-command'], { encoding: 'utf8' }).status, 2, 'usage errors exit 2 as the CLI does');
});

test('every command of the top-level help answers --help and help COMMAND with its own help, exit 0', async (t) => {
  const names = commandsOf((await runCli(['--help'])).stdout).filter((n) => n !== 'help');
  t.true(names.includes('keys') && names.includes('version') && names.length >= 15, names.join(' '));
  await Promise.all(
    names.map(async (name) => {
      const [flag, help] = await Promise.all([runCli([name, '--help']), runCli(['help', name])]);
      t.is(flag.code, 0, `${name} --help: ${flag.stderr}`);
      t.true(flag.stdout.startsWith(`altrace ${name} — `), `${name} --help prints its own help`);
      t.is(help.code, 0, `help ${name}: ${help.stderr}`);
      t.is(help.stdout, flag.stdout, `help ${name} is ${name} --help`);
    }),
  );
});

test('a reader that stops early (| head) does not crash the command: it exits with its own code, no EPIPE', async (t) => {
  // More output than a pipe holds: an eval whose every item is missed lists them all.
  const dir = mkdtempSync(join(tmpdir(), 'altrace-cli-pipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'big.jsonl'), Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `item-number-${i}`, text: 'nothing to find here', labels: ['secret'] })).join('\n'));
  const child = spawn(process.execPath, [join(ROOT, 'bin/altrace.js'), 'content', 'eval', '--corpus', dir, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  t.is(code, 0, stderr);
  t.notRegex(stderr, /EPIPE|Unhandled/);
});

test('altrace help with an unknown command exits 2 and names it', async (t) => {
  const r = await runCli(['help', 'frobnicate']);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown command "frobnicate"/);
});

test('keys create --cost-center: the key carries it and keys list shows it', async (t) => {
  t.regex((await runCli(['keys', '--help'])).stdout, /--cost-center NAME/);
  const created = await cli(['keys', 'create', '--agent', 'billing-bot', '--team', 'finance', '--cost-center', 'cc-4711', '--json']);
  t.is(created.code, 0, created.stderr);
  const key = JSON.parse(created.stdout) as { id: string; cost_center: string };
  t.is(key.cost_center, 'cc-4711');
  const text = await cli(['keys', 'create', '--agent', 'billing-bot', '--team', 'finance', '--cost-center', 'cc-4711']);
  t.regex(text.stdout, /cost center cc-4711/);
  const list = await cli(['keys', 'list']);
  t.is(list.code, 0, list.stderr);
  t.regex(list.stdout, new RegExp(`^${key.id} .*agent=billing-bot team=finance cost_center=cc-4711`, 'm'));
});

test('a value the control API refuses (400) exits 2 with its message; enumerated options are checked before the call', async (t) => {
  const by = await cli(['budgets', 'spend', '--by', 'planet']);
  t.is(by.code, 2, by.stderr);
  t.regex(by.stderr, /--by "planet" is not one of team, agent, key, cost_center, function, model/);
  const window = await cli(['budgets', 'spend', '--window', 'yearly']);
  t.is(window.code, 2);
  t.regex(window.stderr, /--window "yearly" is not one of daily, weekly, monthly/);
  const scope = await cli(['budgets', 'set', 'planet', 'x', '--daily', '1']);
  t.is(scope.code, 2);
  t.regex(scope.stderr, /SCOPE "planet" is not one of key, agent, team, cost_center/);
  const level = await cli(['agents', 'level', 'billing-bot', 'furious']);
  t.is(level.code, 2);
  t.regex(level.stderr, /LEVEL "furious" is not one of normal, warning, throttle, quarantine, block, kill/);
  const status = await cli(['approvals', 'list', '--status', 'maybe']);
  t.is(status.code, 2);
  t.regex(status.stderr, /--status "maybe" is not one of pending, approved, denied, expired, all/);

  // Only the server knows this one is wrong: its 400 is still a usage error, with its message and code.
  const expired = await cli(['keys', 'create', '--agent', 'late-bot', '--team', 'ops', '--expires', '2000-01-01T00:00:00Z']);
  t.is(expired.code, 2, expired.stderr);
  t.regex(expired.stderr, /400: expires must be in the future \[ALT_INVALID_FIELD\]\n\(see altrace keys --help\)/);
  const direct = await fetch(`${agent.controlUrl}/api/v1/spend?by=planet`, { headers: { authorization: `Bearer ${ADMIN}` } });
  t.is(direct.status, 400);
  t.regex(((await direct.json()) as { error: { message: string } }).error.message, /by "planet" is not one of team, agent/);

  // Refusals of a well-formed request stay exit 1.
  const missing = await cli(['unkill', 'agent', 'nobody']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /404: .*\[ALT_NOT_FOUND\]/);
  const { id } = JSON.parse((await cli(['keys', 'create', '--agent', 'gone-bot', '--team', 'ops', '--json'])).stdout) as { id: string };
  t.is((await cli(['keys', 'revoke', id])).code, 0);
  const rotated = await cli(['keys', 'rotate', id]);
  t.is(rotated.code, 1);
  t.regex(rotated.stderr, /409: .*\[ALT_KEY_REVOKED\]/);
});

test('no operator token: the message lists every place looked, in order, with absolute paths, and what to do', async (t) => {
  const cwd = join(dir, 'elsewhere');
  mkdirSync(cwd);
  const env: ChildEnv = { ALTRACE_URL: agent.controlUrl, ALTRACE_TOKEN: undefined, ALTRACE_ADMIN_TOKEN: undefined, ALTRACE_STATE_DIR: undefined };
  const r = await runCli(['keys', 'list'], env, cwd);
  t.is(r.code, 2);
  const places = ['--token TOKEN', 'ALTRACE_TOKEN ', 'ALTRACE_ADMIN_TOKEN', `${join(cwd, '.altrace', 'admin.token')}  no such file`];
  const at = places.map((p) => r.stderr.indexOf(p));
  t.false(at.includes(-1), `${JSON.stringify(places)} in\n${r.stderr}`);
  t.deepEqual(at, [...at].sort((a, b) => a - b), 'in the order they are tried');
  t.regex(r.stderr, /Pass --token TOKEN or set ALTRACE_TOKEN/);
  t.regex(r.stderr, /set ALTRACE_STATE_DIR to that state directory/);

  const relative = await runCli(['keys', 'list'], { ...env, ALTRACE_STATE_DIR: 'state-here' }, cwd);
  t.regex(relative.stderr, new RegExp(`${join(cwd, 'state-here', 'admin.token')}  no such file .*from ALTRACE_STATE_DIR`));

  // The token saved where the message says it looks is found there.
  mkdirSync(join(cwd, '.altrace'));
  writeFileSync(join(cwd, '.altrace', 'admin.token'), `${ADMIN}\n`);
  const found = await runCli(['keys', 'list'], env, cwd);
  t.is(found.code, 0, found.stderr);
});

test('unkill prints what was released: the switch, when and by whom, and how long it had been engaged', async (t) => {
  const engaged = await cli(['kill', 'agent', 'drill-bot', '--reason', 'fire drill']);
  t.is(engaged.code, 0, engaged.stderr);
  await sleep(1100);
  const released = await cli(['unkill', 'agent', 'drill-bot']);
  t.is(released.code, 0, released.stderr);
  const m = /^released agent drill-bot at (\S+) by admin, engaged for (\d+)s \(since (\S+) by admin: fire drill\)$/m.exec(released.stdout);
  t.truthy(m, released.stdout);
  t.true(Number(m![2]) >= 1, 'engaged for at least the second slept');
  t.true(Date.parse(m![1]!) - Date.parse(m![3]!) >= 1000, 'released after it was engaged');

  t.is((await cli(['kill', 'team', 'drill-team'])).code, 0);
  const json = await cli(['unkill', 'team', 'drill-team', '--json']);
  t.is(json.code, 0, json.stderr);
  const r = JSON.parse(json.stdout) as { released: { scope: string; target: string; by: string; engaged: string }; released_at: string; released_by: string; engaged_for_s: number };
  t.like(r, { released: { scope: 'team', target: 'drill-team', by: 'admin' }, released_by: 'admin' });
  t.true(Math.abs(r.engaged_for_s - (Date.parse(r.released_at) - Date.parse(r.released.engaged)) / 1000) < 0.002, JSON.stringify(r));
  t.is((await cli(['kill', 'list', '--json'])).stdout.includes('drill-'), false, 'both switches are released');
});

test('start with no provider credential warns which variable supplies each, and the 503 hint names it', async (t) => {
  const lines = agent.stderr.join('\n');
  t.regex(lines, /^warning: no credential for openai, anthropic, gemini, azure, bedrock, local-llm, mcp:docs: their requests are refused \(503 ALT_CREDENTIAL_MISSING\)/m);
  t.regex(lines, /^ {2}openai +OPENAI_API_KEY +or: altrace credentials set openai$/m);
  t.regex(lines, /^ {2}anthropic +ANTHROPIC_API_KEY +or: altrace credentials set anthropic$/m);
  t.regex(lines, /^ {2}gemini +GEMINI_API_KEY or GOOGLE_API_KEY +or: altrace credentials set gemini$/m);
  t.regex(lines, /^ {2}azure +AZURE_OPENAI_ENDPOINT.* AZURE_OPENAI_API_KEY +or: altrace credentials set azure$/m);
  t.regex(lines, /^ {2}bedrock +AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.*AWS_BEARER_TOKEN_BEDROCK.*ALTRACE_BEDROCK_AWS_CHAIN=true.* +or: altrace credentials set bedrock --aws$/m);
  t.regex(lines, /^ {2}local-llm +LOCAL_LLM_KEY +or: altrace credentials set local-llm$/m);
  t.regex(lines, /^ {2}mcp:docs +DOCS_MCP_TOKEN$/m);

  const { key } = JSON.parse((await cli(['keys', 'create', '--agent', 'keyless-bot', '--team', 'ops', '--json'])).stdout) as { key: string };
  const openai = new OpenAI({ apiKey: key, baseURL: `${agent.proxyUrl}/v1`, maxRetries: 0 });
  const err = await t.throwsAsync(openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }));
  t.true(err instanceof OpenAI.APIError);
  const e = err as InstanceType<typeof OpenAI.APIError>;
  t.is(e.status, 503);
  t.is(e.code, 'ALT_CREDENTIAL_MISSING');
  const hint = (e.error as { altrace: { hint: string } }).altrace.hint;
  t.regex(hint, /no credential for openai: an operator sets OPENAI_API_KEY in the agent's environment \(or runs `altrace credentials set openai`/);

  const anthropic = await fetch(`${agent.proxyUrl}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  t.is(anthropic.status, 503);
  t.is(anthropic.headers.get('x-altrace-reason'), 'ALT_CREDENTIAL_MISSING');
  const body = await anthropic.text();
  t.regex(body, /ANTHROPIC_API_KEY/);
  t.notRegex(body, /OPENAI_API_KEY/, 'the hint is the one for the provider called');
});
