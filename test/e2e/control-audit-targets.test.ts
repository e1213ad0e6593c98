// Every control call that changes state says in its audit record what it acted on. The table
// below has one row per such route; a route added without a row fails the first test, so a new
// route cannot ship with an empty audit target.
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import test from 'ava';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { rawPublicKey } from '../../proxy/src/index.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

let h: Harness;
let red: string;
const dir = mkdtempSync(join(tmpdir(), 'altrace-audit-targets-'));

test.before(async () => {
  mkdirSync(join(dir, 'contracts'));
  // A model gate holds the request until an operator decides: the approval rows decide it.
  writeFileSync(
    join(dir, 'contracts', 'gated.yaml'),
    stringifyYaml({ contract: 'gated', version: 1, applies_to: { agents: ['gated-bot'] }, approvals: [{ id: 'reasoning', model: 'o3*', timeout_s: 30 }] }),
  );
  const policy = shippedPolicy();
  policy.contracts = { dir: 'contracts' };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
  red = ((await (await h.control('POST', '/tokens', { name: 'red-ops', team: 'red' })).json()) as { token: string }).token;
  await h.createKey({ agent: 'red-bot', team: 'red' });
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A call made for a row: its method and path as the audit record names them, and the target it must name. */
interface Expect {
  action: string;
  target: string;
  /** The status the call is recorded with, when the row's call is refused on purpose (default: a success). */
  status?: number;
}

async function ok(res: Response, status = 200): Promise<any> {
  const text = await res.text();
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`);
  return JSON.parse(text);
}

/** Starts a request the model gate holds, and returns the approval it waits on. */
async function heldApproval(): Promise<{ id: string; settled: Promise<unknown> }> {
  const { key } = await h.createKey({ agent: 'gated-bot', team: 'red' });
  const before = new Set(((await ok(await h.control('GET', '/approvals'))) as { approvals: { id: string }[] }).approvals.map((a) => a.id));
  const settled = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions
    .create({ model: 'o3-mini', messages: [{ role: 'user', content: 'think' }] })
    .catch((e: unknown) => e);
  let id = '';
  await eventually(
    async () => {
      const all = ((await ok(await h.control('GET', '/approvals'))) as { approvals: { id: string }[] }).approvals;
      id = all.find((a) => !before.has(a.id))?.id ?? '';
      return id !== '';
    },
    5000,
    'the approval the gate asked for',
  );
  return { id, settled };
}

/** How each state-changing route is called, and the target its audit record must name. Keyed `METHOD /declared/path`. */
const rows: Record<string, () => Promise<Expect>> = {
  'POST /keys': async () => {
    const k = await ok(await h.controlAs(red, 'POST', '/keys', { agent: 'row-keys', team: 'red' }), 201);
    return { action: 'POST /keys', target: `key:${k.id} agent:row-keys` };
  },
  'DELETE /keys/:id': async () => {
    const k = await h.createKey({ agent: 'row-revoke', team: 'red' });
    await ok(await h.controlAs(red, 'DELETE', `/keys/${k.id}`));
    return { action: `DELETE /keys/${k.id}`, target: `key:${k.id} agent:row-revoke` };
  },
  'POST /keys/:id/rotate': async () => {
    const k = await h.createKey({ agent: 'row-rotate', team: 'red' });
    await ok(await h.controlAs(red, 'POST', `/keys/${k.id}/rotate`));
    return { action: `POST /keys/${k.id}/rotate`, target: `key:${k.id} agent:row-rotate` };
  },
  'POST /kill': async () => {
    await ok(await h.controlAs(red, 'POST', '/kill', { scope: 'agent', target: 'red-bot' }), 201);
    return { action: 'POST /kill', target: 'agent:red-bot' };
  },
  'DELETE /kill/:scope/:target': async () => {
    await ok(await h.controlAs(red, 'POST', '/kill', { scope: 'team', target: 'red' }), 201);
    await ok(await h.controlAs(red, 'DELETE', '/kill/team/red'));
    return { action: 'DELETE /kill/team/red', target: 'team:red' };
  },
  'DELETE /kill/:scope': async () => {
    await ok(await h.control('POST', '/kill', { scope: 'global' }), 201);
    await ok(await h.control('DELETE', '/kill/global'));
    return { action: 'DELETE /kill/global', target: 'global' };
  },
  'PUT /budgets/:scope/:target': async () => {
    await ok(await h.controlAs(red, 'PUT', '/budgets/team/red', { daily: 10 }));
    return { action: 'PUT /budgets/team/red', target: 'team:red' };
  },
  'PUT /agents/:id/level': async () => {
    await ok(await h.controlAs(red, 'PUT', '/agents/red-bot/level', { level: 'warning', reason: 'row' }));
    return { action: 'PUT /agents/red-bot/level', target: 'agent:red-bot' };
  },
  'POST /delegations': async () => {
    const sub = rawPublicKey(generateKeyPairSync('ed25519').publicKey);
    await ok(await h.controlAs(red, 'POST', '/delegations', { aud: 'red-bot', sub }), 201);
    return { action: 'POST /delegations', target: 'agent:red-bot' };
  },
  'POST /tokens': async () => {
    await ok(await h.control('POST', '/tokens', { name: 'row-token', team: 'red' }), 201);
    return { action: 'POST /tokens', target: 'token:row-token team:red' };
  },
  'POST /tokens/:name/rotate': async () => {
    await ok(await h.control('POST', '/tokens', { name: 'row-rotor', team: 'red', role: 'viewer' }), 201);
    const res = await h.control('POST', '/tokens/row-rotor/rotate', { grace_s: 60 });
    const until = ((await res.clone().json()) as { previous_until: string }).previous_until;
    await ok(res);
    return { action: 'POST /tokens/row-rotor/rotate', target: `token:row-rotor team:red previous until ${until}` };
  },
  'POST /certificates': async () => {
    // No control CA without control.tls: refused, and recorded with what it asked for (control-mtls.test.ts issues them).
    await ok(await h.control('POST', '/certificates', { csr: 'x', name: 'row-cert', role: 'viewer', team: 'red' }), 409);
    return { action: 'POST /certificates', target: 'certificate:row-cert viewer team:red', status: 409 };
  },
  'POST /certificates/:serial/revoke': async () => {
    await ok(await h.control('POST', '/certificates/00ab12/revoke', { reason: 'row' }));
    return { action: 'POST /certificates/00ab12/revoke', target: 'certificate serial:ab12' };
  },
  'DELETE /tokens/:name': async () => {
    await ok(await h.control('POST', '/tokens', { name: 'row-admin' }), 201);
    await ok(await h.control('DELETE', '/tokens/row-admin'));
    return { action: 'DELETE /tokens/row-admin', target: 'token:row-admin admin' };
  },
  'DELETE /lockouts/:source': async () => {
    // A source of its own guesses tokens until it is locked out; the admin (127.0.0.1) lifts it.
    for (let i = 0; i < 21; i++) await wrongTokenFrom('127.0.0.9');
    await ok(await h.control('DELETE', '/lockouts/127.0.0.9'));
    return { action: 'DELETE /lockouts/127.0.0.9', target: 'source:127.0.0.9' };
  },
  'POST /approvals/:id/approve': async () => {
    const { id, settled } = await heldApproval();
    await ok(await h.controlAs(red, 'POST', `/approvals/${id}/approve`, { reason: 'row' }));
    await settled;
    return { action: `POST /approvals/${id}/approve`, target: `approval:${id} agent:gated-bot` };
  },
  'POST /approvals/:id/deny': async () => {
    const { id, settled } = await heldApproval();
    await ok(await h.controlAs(red, 'POST', `/approvals/${id}/deny`, {}));
    await settled;
    return { action: `POST /approvals/${id}/deny`, target: `approval:${id} agent:gated-bot` };
  },
  'GET /audit/checkpoint': async () => {
    const { checkpoint } = (await ok(await h.control('GET', '/audit/checkpoint'))) as { checkpoint: string };
    // The note's second line is the tree size the checkpoint covers.
    return { action: 'GET /audit/checkpoint', target: `checkpoint:${checkpoint.split('\n')[1]}` };
  },
};

type ControlRecord = { control?: { action: string; target?: string; status: number; error?: string } };

async function controlRecords(): Promise<NonNullable<ControlRecord['control']>[]> {
  const { records } = (await ok(await h.control('GET', '/audit?kind=control&limit=1000'))) as { records: ControlRecord[] };
  return records.map((r) => r.control!);
}

test.serial('every state-changing control route has a row saying how its audit target is checked', (t) => {
  const declared = h.agent.controlRoutes.filter((r) => r.changesState).map((r) => `${r.method} ${r.path}`);
  t.true(declared.includes('GET /audit/checkpoint'), 'a GET that writes a checkpoint counts as a state change');
  t.deepEqual(declared.filter((r) => !(r in rows)), [], 'routes without a row: add one to this table');
  t.deepEqual(Object.keys(rows).filter((r) => !declared.includes(r)), [], 'rows for routes that no longer change state, or no longer exist');
});

for (const [route, call] of Object.entries(rows)) {
  test.serial(`${route}: its audit record names its target`, async (t) => {
    const expected = await call();
    const records = (await controlRecords()).filter((c) => c.action === expected.action && (expected.status !== undefined ? c.status === expected.status : c.status < 400));
    t.true(records.length > 0, `an audit record for ${expected.action}`);
    t.is(records[0]!.target, expected.target);
  });
}

test.serial('refused calls are recorded with what they tried to act on, and learn nothing of another team', async (t) => {
  t.is((await h.controlAs(red, 'POST', '/tokens', { name: 'escalate' })).status, 403);
  t.is((await h.controlAs(red, 'PUT', '/budgets/agent/nobody', { daily: 1 })).status, 404);
  t.is((await h.controlAs(red, 'PUT', '/agents/nobody/level', { level: 'block' })).status, 404);
  t.is((await h.controlAs(red, 'POST', '/approvals/apr-unknown/approve', {})).status, 404);
  t.is((await h.controlAs(red, 'POST', '/delegations', { aud: 'nobody', sub: 'x' })).status, 404);
  const records = await controlRecords();
  const target = (action: string) => records.find((c) => c.action === action && c.status >= 400)?.target;
  // Refused by its role before the body is read (operators may not issue tokens): the action is what it tried.
  t.true(records.some((c) => c.action === 'POST /tokens' && c.status === 403 && c.error === 'ALT_FORBIDDEN' && c.target === undefined));
  t.is(target('PUT /budgets/agent/nobody'), 'agent:nobody');
  t.is(target('PUT /agents/nobody/level'), 'agent:nobody');
  t.is(target('POST /approvals/apr-unknown/approve'), 'approval:apr-unknown', 'an approval the caller cannot see names no agent');
  t.is(target('POST /delegations'), 'agent:nobody');
});

/** One control-API call with a wrong token, from `from` (a loopback address of its own). */
function wrongTokenFrom(from: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(h.controlUrl);
    const req = httpRequest({ host: u.hostname, port: u.port, path: '/api/v1/keys', localAddress: from, headers: { authorization: 'Bearer altop-wrong' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}
