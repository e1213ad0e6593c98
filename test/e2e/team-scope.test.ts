import test from 'ava';
import OpenAI from 'openai';
import { startHarness, type Harness } from '../helpers/harness.js';

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
