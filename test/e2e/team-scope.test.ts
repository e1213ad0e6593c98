import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { SqliteStore } from '../../agent/src/state/sqlite.js';
import { displayPrefix, generateKeySecret, hashKey } from '../../proxy/src/index.js';
import { ADMIN_TOKEN, eventually, startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let red: string;
let blue: string;
let redKey: { key: string; id: string };
let blueKey: { key: string; id: string };

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

test.before(async () => {
  h = await startHarness();
  red = (await json(await h.control('POST', '/tokens', { name: 'red-ops', team: 'red' }))).token;
  blue = (await json(await h.control('POST', '/tokens', { name: 'blue-ops', team: 'blue' }))).token;
  redKey = await h.createKey({ agent: 'red-bot', team: 'red' });
  blueKey = await h.createKey({ agent: 'blue-bot', team: 'blue' });
});
test.after.always(async () => h?.close());

const works = async (key: string) =>
  new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions
    .create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
    .then(
      () => 'ok',
      (e: { code?: string }) => e.code,
    );

test.serial('a team token sees only its own team’s keys', async (t) => {
  const keys = await json<{ keys: { id: string; team: string }[] }>(await h.controlAs(red, 'GET', '/keys'));
  t.deepEqual(keys.keys.map((k) => k.team), ['red']);
  t.is((await h.controlAs(red, 'GET', `/keys/${blueKey.id}`)).status, 404);
  t.is((await h.controlAs(red, 'GET', `/keys/${redKey.id}`)).status, 200);
});

test.serial('a team token cannot issue, revoke or rotate another team’s keys', async (t) => {
  const issue = await h.controlAs(red, 'POST', '/keys', { agent: 'sneaky', team: 'blue' });
  t.is(issue.status, 403);
  t.is((await json(issue)).error.field, 'team');
  t.is((await h.controlAs(red, 'DELETE', `/keys/${blueKey.id}`)).status, 404);
  t.is((await h.controlAs(red, 'POST', `/keys/${blueKey.id}/rotate`)).status, 404);
  t.is(await works(blueKey.key), 'ok', 'the other team’s key is untouched');
  const own = await h.controlAs(red, 'POST', '/keys', { agent: 'red-helper', team: 'red' });
  t.is(own.status, 201);
});

test.serial('a team token cannot kill another team, its agents, or everyone', async (t) => {
  const team = await h.controlAs(red, 'POST', '/kill', { scope: 'team', target: 'blue' });
  t.is(team.status, 403);
  t.is((await json(team)).error.field, 'target');
  t.is((await h.controlAs(red, 'POST', '/kill', { scope: 'agent', target: 'blue-bot' })).status, 404);
  t.is((await h.controlAs(red, 'POST', '/kill', { scope: 'global' })).status, 403);
  t.is(await works(blueKey.key), 'ok');
  t.deepEqual((await json(await h.control('GET', '/kill'))).switches, [], 'nothing was engaged');
});

test.serial('a team token kills its own agent; the other team can neither see nor release it', async (t) => {
  t.is((await h.controlAs(red, 'POST', '/kill', { scope: 'agent', target: 'red-bot', reason: 'looping' })).status, 201);
  t.is(await works(redKey.key), 'ALT_KILLED_AGENT');
  t.is(await works(blueKey.key), 'ok');
  t.deepEqual((await json(await h.controlAs(blue, 'GET', '/kill'))).switches, []);
  t.is((await json(await h.controlAs(red, 'GET', '/kill'))).switches.length, 1);
  t.is((await h.controlAs(blue, 'DELETE', '/kill/agent/red-bot')).status, 404);
  t.is(await works(redKey.key), 'ALT_KILLED_AGENT', 'still killed');
  t.is((await h.controlAs(red, 'DELETE', '/kill/agent/red-bot')).status, 200);
  t.is(await works(redKey.key), 'ok');
});

type ControlRecord = { control: { operator: string; action: string; target?: string; status: number; error?: string } };
type AnyRecord = { principal?: { agent: string; team: string }; control?: ControlRecord['control'] };

const controlRecords = async (token: string) =>
  (await json<{ records: ControlRecord[] }>(await h.controlAs(token, 'GET', '/audit?kind=control&limit=1000'))).records.map((r) => r.control);

test.serial('agent-name squatting: a team token cannot issue a key for another team’s agent, and nothing is kept', async (t) => {
  const squat = await h.controlAs(red, 'POST', '/keys', { agent: 'blue-bot', team: 'red' });
  t.is(squat.status, 409);
  const { error } = await json(squat);
  t.is(error.code, 'ALT_AGENT_IN_OTHER_TEAM');
  t.is(error.field, 'agent');
  t.notRegex(error.message, /blue\b(?!-bot)/, 'the refusal does not name the team that holds the agent');
  const keys = (await json<{ keys: { agent: string; team: string }[] }>(await h.control('GET', '/keys'))).keys;
  t.deepEqual(keys.filter((k) => k.agent === 'blue-bot').map((k) => k.team), ['blue'], 'no key was persisted for the squatter');
  t.is((await h.controlAs(red, 'GET', '/keys')).status, 200);
  t.false((await json<{ keys: { agent: string }[] }>(await h.controlAs(red, 'GET', '/keys'))).keys.some((k) => k.agent === 'blue-bot'));
});

test.serial('agent-name squatting: the owning team still kills, re-levels and budgets its agent; the other team cannot', async (t) => {
  t.is((await h.controlAs(red, 'POST', '/kill', { scope: 'agent', target: 'blue-bot' })).status, 404);
  t.is((await h.controlAs(red, 'PUT', '/agents/blue-bot/level', { level: 'warning' })).status, 404);
  t.is((await h.controlAs(red, 'PUT', '/budgets/agent/blue-bot', { daily: 0 })).status, 404);

  t.is((await h.controlAs(blue, 'POST', '/kill', { scope: 'agent', target: 'blue-bot', reason: 'drill' })).status, 201);
  t.is(await works(blueKey.key), 'ALT_KILLED_AGENT');
  t.deepEqual((await json(await h.controlAs(red, 'GET', '/kill'))).switches, [], 'the other team does not see the switch');
  t.is((await h.controlAs(blue, 'DELETE', '/kill/agent/blue-bot')).status, 200);
  t.is(await works(blueKey.key), 'ok');

  const level = await h.controlAs(blue, 'PUT', '/agents/blue-bot/level', { level: 'warning', reason: 'drill' });
  t.is(level.status, 200);
  t.is((await json(level)).level, 'warning');
  t.is((await h.controlAs(blue, 'PUT', '/agents/blue-bot/level', { level: 'normal' })).status, 200);

  t.is((await h.controlAs(blue, 'PUT', '/budgets/agent/blue-bot', { daily: 100 })).status, 200);
  t.false((await json<{ budgets: { target: string }[] }>(await h.controlAs(red, 'GET', '/budgets'))).budgets.some((b) => b.target === 'blue-bot'));
  t.is((await h.controlAs(blue, 'PUT', '/budgets/agent/blue-bot', { daily: null })).status, 200);
});

test.serial('agent-name squatting: another team reads none of the agent, its decisions or its spend', async (t) => {
  t.is(await works(blueKey.key), 'ok');
  const blueSees = async () =>
    (await json<{ records: AnyRecord[] }>(await h.controlAs(blue, 'GET', '/audit?agent=blue-bot&kind=decision'))).records.length > 0;
  await eventually(blueSees, 5000, 'blue-bot’s decisions in its own team’s audit view');

  t.is((await h.controlAs(red, 'GET', '/agents/blue-bot')).status, 404);
  t.false((await json<{ agents: { id: string }[] }>(await h.controlAs(red, 'GET', '/agents'))).agents.some((a) => a.id === 'blue-bot'));
  const mine = await json<{ id: string; team: string }>(await h.controlAs(blue, 'GET', '/agents/blue-bot'));
  t.is(mine.team, 'blue');
  t.deepEqual((await json<{ records: AnyRecord[] }>(await h.controlAs(red, 'GET', '/audit?agent=blue-bot'))).records, []);
  const all = (await json<{ records: AnyRecord[] }>(await h.controlAs(red, 'GET', '/audit?limit=1000'))).records;
  t.false(all.some((r) => r.principal?.agent === 'blue-bot' || r.principal?.team === 'blue'));
  const spend = await json<{ rows: { agent: string }[] }>(await h.controlAs(red, 'GET', '/spend?by=agent'));
  t.false(spend.rows.some((r) => r.agent === 'blue-bot'));
});

test.serial('agent-name squatting: an admin cannot bind an agent to a second team either, and is told which team holds it', async (t) => {
  const res = await h.control('POST', '/keys', { agent: 'blue-bot', team: 'red' });
  t.is(res.status, 409);
  const { error } = await json(res);
  t.is(error.code, 'ALT_AGENT_IN_OTHER_TEAM');
  t.regex(error.message, /belongs to team blue/);
  const keys = (await json<{ keys: { agent: string; team: string }[] }>(await h.control('GET', '/keys'))).keys;
  t.deepEqual(keys.filter((k) => k.agent === 'blue-bot').map((k) => k.team), ['blue']);
  const more = await h.control('POST', '/keys', { agent: 'blue-bot', team: 'blue' });
  t.is(more.status, 201, 'a further key in the agent’s own team is fine');
  t.is((await h.controlAs(blue, 'DELETE', `/keys/${(await json(more)).id}`)).status, 200);
  // Revoking engaged blue-bot's switch; release it for the tests after this one.
  t.is((await h.controlAs(blue, 'DELETE', '/kill/agent/blue-bot')).status, 200);
});

test.serial('the audit records of kill and key calls name their target, refused ones included', async (t) => {
  const created = await json(await h.controlAs(blue, 'POST', '/keys', { agent: 'blue-audited', team: 'blue' }));
  t.is((await h.controlAs(blue, 'POST', '/kill', { scope: 'team', target: 'blue' })).status, 201);
  t.is((await h.controlAs(blue, 'DELETE', '/kill/team/blue')).status, 200);
  t.is((await h.controlAs(blue, 'POST', `/keys/${created.id}/rotate`)).status, 200);
  t.is((await h.controlAs(blue, 'DELETE', `/keys/${created.id}`)).status, 200);
  t.is((await h.control('POST', '/kill', { scope: 'global' })).status, 201);
  t.is((await h.control('DELETE', '/kill/global')).status, 200);
  t.is((await h.control('DELETE', '/kill/agent/blue-audited')).status, 200);

  const blueLog = await controlRecords(blue);
  const find = (action: string, target: string) => blueLog.find((c) => c.action === action && c.target === target);
  t.truthy(find('POST /keys', `key:${created.id} agent:blue-audited`), 'key issue: the key id and its agent');
  t.truthy(find('POST /kill', 'team:blue'));
  t.truthy(find('DELETE /kill/team/blue', 'team:blue'));
  t.truthy(find(`POST /keys/${created.id}/rotate`, `key:${created.id} agent:blue-audited`));
  t.truthy(find(`DELETE /keys/${created.id}`, `key:${created.id} agent:blue-audited`));
  t.truthy(find('POST /kill', 'agent:blue-bot'), 'an agent kill names scope:agent');

  const adminLog = await controlRecords(ADMIN_TOKEN);
  t.truthy(adminLog.find((c) => c.action === 'POST /kill' && c.target === 'global'));
  t.truthy(adminLog.find((c) => c.action === 'DELETE /kill/global' && c.target === 'global'));

  const redLog = await controlRecords(red);
  const squat = redLog.find((c) => c.action === 'POST /keys' && c.status === 409);
  t.is(squat?.target, 'agent:blue-bot', 'the refused squat is recorded with the agent it tried to take');
  t.is(squat?.error, 'ALT_AGENT_IN_OTHER_TEAM');
  const probe = redLog.find((c) => c.action === `DELETE /keys/${blueKey.id}`);
  t.is(probe?.target, `key:${blueKey.id}`, 'a refused call on another team’s key does not learn its agent');
});

test.serial('only an admin manages operator tokens; unknown tokens are refused', async (t) => {
  t.is((await h.controlAs(red, 'POST', '/tokens', { name: 'escalate' })).status, 403);
  t.is((await h.controlAs(red, 'GET', '/tokens')).status, 403);
  t.is((await h.controlAs(red, 'DELETE', '/tokens/blue-ops')).status, 403);
  t.is((await h.controlAs('altop-not-a-token', 'GET', '/keys')).status, 401);
  const dup = await h.control('POST', '/tokens', { name: 'red-ops', team: 'red' });
  t.is(dup.status, 409);
  t.is((await h.control('POST', '/tokens', { name: 'bad name' })).status, 400);
  const names = (await json<{ tokens: { name: string }[] }>(await h.control('GET', '/tokens'))).tokens.map((x) => x.name);
  t.deepEqual(names.sort(), ['admin', 'blue-ops', 'red-ops']);
  t.is((await h.control('DELETE', '/tokens/admin')).status, 409, 'the last admin token cannot be deleted');
  t.is((await h.control('DELETE', '/tokens/blue-ops')).status, 200);
  t.is((await h.controlAs(blue, 'GET', '/keys')).status, 401, 'a deleted token stops working at once');
});

test('keys issued before the one-team rule: the agent belongs to the team of its first key', async (t) => {
  // A state directory from before the rule, where red squatted blue's agent by issuing a later key.
  const dir = mkdtempSync(join(tmpdir(), 'altrace-squatted-'));
  const store = new SqliteStore(dir);
  const key = (id: string, team: string, createdAt: number) => {
    const secret = generateKeySecret();
    store.insertKey({ id, hash: hashKey(secret), prefix: displayPrefix(secret), agent: 'shared-bot', team, models: [], providers: [], costCenter: null, expiresAt: null, revokedAt: null, createdAt });
    return secret;
  };
  const blueSecret = key('key_blue_first', 'blue', Date.now() - 60_000);
  key('key_red_later', 'red', Date.now() - 1_000);
  store.close();
  const old = await startHarness({ ALTRACE_STATE_DIR: dir });
  try {
    const tokenFor = async (name: string, team: string) => (await json(await old.control('POST', '/tokens', { name, team }))).token as string;
    const [r, b] = [await tokenFor('red-ops', 'red'), await tokenFor('blue-ops', 'blue')];
    t.is((await old.controlAs(r, 'POST', '/kill', { scope: 'agent', target: 'shared-bot' })).status, 404);
    t.is((await old.controlAs(r, 'GET', '/agents/shared-bot')).status, 404);
    t.is((await old.controlAs(r, 'POST', '/keys', { agent: 'shared-bot', team: 'red' })).status, 409, 'no further squatting keys either');
    t.is((await old.controlAs(b, 'POST', '/kill', { scope: 'agent', target: 'shared-bot' })).status, 201, 'the first team keeps its agent');
    const chat = new OpenAI({ apiKey: blueSecret, baseURL: `${old.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    t.is((await chat.then(() => 'ok', (e: { code?: string }) => e.code)), 'ALT_KILLED_AGENT');
    t.is((await old.controlAs(b, 'PUT', '/budgets/agent/shared-bot', { daily: 1 })).status, 200);
  } finally {
    await old.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
