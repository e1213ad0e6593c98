// Roles (issue 24, item 2): every control-API route declares the permission it needs, and every
// role is walked over every route against this table — a route added without a row here fails.
import test from 'ava';
import { ControlRoutes } from '../../agent/src/control/router.js';
import { fleetAgentRoutes } from '../../agent/src/control/routes/fleet-agents.js';
import { fleetAuditRoutes } from '../../agent/src/control/routes/fleet-audit.js';
import { fleetNodeRoutes } from '../../agent/src/control/routes/fleet-nodes.js';
import { fleetPolicyRoutes } from '../../agent/src/control/routes/fleet-policy.js';
import { ADMIN_TOKEN, startHarness, type Harness } from '../helpers/harness.js';

type Role = 'admin' | 'operator' | 'viewer' | 'auditor' | 'approver';
const ROLES: Role[] = ['admin', 'operator', 'viewer', 'auditor', 'approver'];
const READ: Role[] = ['admin', 'operator', 'viewer'];
const WRITE: Role[] = ['admin', 'operator'];
const APPROVALS: Role[] = ['admin', 'operator', 'viewer', 'approver'];
const APPROVE: Role[] = ['admin', 'operator', 'approver'];
const AUDIT: Role[] = ['admin', 'operator', 'auditor'];
const ADMIN: Role[] = ['admin'];

/** Who gets past the role check, per route of a node (the services then apply team scope). */
const NODE_TABLE: Record<string, Role[]> = {
  'GET /chain': READ,
  'GET /keys': READ,
  'POST /keys': WRITE,
  'GET /keys/:id': READ,
  'DELETE /keys/:id': WRITE,
  'POST /keys/:id/rotate': WRITE,
  'GET /kill': READ,
  'POST /kill': WRITE,
  'DELETE /kill/:scope': WRITE,
  'DELETE /kill/:scope/:target': WRITE,
  'GET /budgets': READ,
  'PUT /budgets/:scope/:target': WRITE,
  'GET /spend': READ,
  'GET /agents': READ,
  'GET /agents/:id': READ,
  'PUT /agents/:id/level': WRITE,
  'GET /approvals': APPROVALS,
  'GET /approvals/:id': APPROVALS,
  'POST /approvals/:id/approve': APPROVE,
  'POST /approvals/:id/deny': APPROVE,
  'GET /audit': AUDIT,
  'GET /audit/verify': AUDIT,
  'GET /audit/checkpoint': AUDIT,
  'GET /audit/export': AUDIT,
  'POST /delegations': WRITE,
  'GET /delegations/root-key': READ,
  'GET /node': ADMIN,
  'GET /node/ca': READ,
  'GET /tokens': ADMIN,
  'POST /tokens': ADMIN,
  'DELETE /tokens/:name': ADMIN,
  'POST /tokens/:name/rotate': ADMIN,
  'GET /certificates': ADMIN,
  'POST /certificates': ADMIN,
  'POST /certificates/:serial/revoke': ADMIN,
  'GET /certificates/crl': READ,
  'GET /lockouts': ADMIN,
  'DELETE /lockouts/:source': ADMIN,
};

/** The routes only a control-plane replica adds. */
const FLEET_TABLE: Record<string, Role[]> = {
  'GET /agents': READ,
  'GET /node': ADMIN,
  'GET /audit/verify': AUDIT,
  'GET /nodes/tokens': ADMIN,
  'POST /nodes/tokens': ADMIN,
  'DELETE /nodes/tokens/:name': ADMIN,
  'GET /nodes': ADMIN,
  'DELETE /nodes/:id': ADMIN,
  'GET /policy': READ,
  'PUT /policy': ADMIN,
};

const PERMISSION_ROLES: Record<string, Role[]> = { read: READ, write: WRITE, approvals: APPROVALS, approve: APPROVE, audit: AUDIT, admin: ADMIN };

let h: Harness;
const tokens = new Map<Role, string>([['admin', ADMIN_TOKEN]]);

test.before(async () => {
  h = await startHarness();
  for (const role of ROLES.filter((r) => r !== 'admin')) {
    const res = await h.control('POST', '/tokens', { name: `payments-${role}`, team: 'payments', role });
    if (res.status !== 201) throw new Error(`token for ${role}: ${res.status} ${await res.text()}`);
    tokens.set(role, ((await res.json()) as { token: string }).token);
  }
});
test.after.always(async () => {
  await h?.close();
});

test('every route of a node declares a permission, and the table names it', (t) => {
  const declared = Object.fromEntries(h.agent.controlRoutes.map((r) => [`${r.method} ${r.path}`, PERMISSION_ROLES[r.permission]]));
  t.deepEqual(Object.keys(declared).sort(), Object.keys(NODE_TABLE).sort(), 'a route without a row in the table (or a row without a route)');
  for (const [route, roles] of Object.entries(NODE_TABLE)) t.deepEqual(declared[route], roles, route);
});

test('every route a control-plane replica adds declares a permission, and the table names it', (t) => {
  const routes = new ControlRoutes();
  // Registration stores handlers only: no service is called here.
  fleetNodeRoutes(routes, null as never);
  fleetAgentRoutes(routes, null as never, async () => []);
  fleetPolicyRoutes(routes, null as never);
  fleetAuditRoutes(routes, async () => null as never);
  const declared = Object.fromEntries(routes.list().map((r) => [`${r.method} ${r.path}`, PERMISSION_ROLES[r.permission]]));
  t.deepEqual(declared, FLEET_TABLE);
});

test('each role over each route: refused with ALT_FORBIDDEN naming the role where the table says so, past the role check elsewhere', async (t) => {
  const fill = (path: string) => path.replace(':scope', 'agent').replace(/:[a-z]+/g, 'nobody');
  for (const [route, allowed] of Object.entries(NODE_TABLE)) {
    const [method, path] = route.split(' ') as [string, string];
    for (const role of ROLES) {
      const res = await h.controlAs(tokens.get(role)!, method, fill(path), method === 'GET' || method === 'DELETE' ? undefined : {});
      const text = await res.text();
      const refusedByRole = res.status === 403 && /"ALT_FORBIDDEN"/.test(text) && /role does not permit/.test(text);
      t.is(refusedByRole, !allowed.includes(role), `${role} ${route}: ${res.status} ${text.slice(0, 160)}`);
    }
  }
});

test('a token carries one role and, but for admin, one team; roles are listed; an auditor verifies, an approver sees approvals', async (t) => {
  const bad = async (body: Record<string, unknown>, field: string) => {
    const res = await h.control('POST', '/tokens', body);
    t.is(res.status, 400, JSON.stringify(body));
    t.regex(await res.text(), new RegExp(`"field":"${field}"`));
  };
  await bad({ name: 'x1', team: 'payments', role: 'admin' }, 'team');
  await bad({ name: 'x2', role: 'viewer' }, 'team');
  await bad({ name: 'x3', team: 'payments', role: 'root' }, 'role');
  const { tokens: listed } = (await (await h.control('GET', '/tokens')).json()) as { tokens: { name: string; role: string; team: string | null }[] };
  t.like(listed.find((x) => x.name === 'payments-auditor'), { role: 'auditor', team: 'payments' });
  t.like(listed.find((x) => x.name === 'payments-operator'), { role: 'operator', team: 'payments' });
  // A team token created without a role is an operator's, as before roles existed.
  const legacy = await h.control('POST', '/tokens', { name: 'ops-legacy', team: 'ops' });
  t.is(((await legacy.json()) as { role: string }).role, 'operator');
  // An auditor verifies the whole log (its proofs); it reads nothing else.
  t.is((await h.controlAs(tokens.get('auditor')!, 'GET', '/audit/verify')).status, 200);
  t.is((await h.controlAs(tokens.get('auditor')!, 'GET', '/keys')).status, 403);
  // An approver sees its team's approvals only, and answers them.
  t.is((await h.controlAs(tokens.get('approver')!, 'GET', '/approvals')).status, 200);
});

test('calls per operator identity are limited: past the limit refused with retry-after and audited; another identity is not held back', async (t) => {
  const limited = await startHarness({ ALTRACE_CONTROL_CALLS_PER_MINUTE: '5' });
  try {
    const viewer = ((await (await limited.control('POST', '/tokens', { name: 'busy', team: 'payments', role: 'viewer' })).json()) as { token: string }).token;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await limited.controlAs(viewer, 'GET', '/keys')).status);
    t.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    const refused = await limited.controlAs(viewer, 'GET', '/keys');
    t.is(refused.status, 429);
    t.true(Number(refused.headers.get('retry-after')) >= 1);
    t.regex(await refused.text(), /"ALT_RATE_LIMITED"/);
    t.is((await limited.control('GET', '/keys')).status, 200, 'the admin identity has its own budget (its one call so far was the token)');
    const { records } = (await (await limited.control('GET', '/audit?limit=1000')).json()) as { records: { control?: { operator: string; status: number; error?: string } }[] };
    t.true(records.some((r) => r.control?.operator === 'busy' && r.control.status === 429 && r.control.error === 'ALT_RATE_LIMITED'));
  } finally {
    await limited.close();
  }
});

test('a token issued with a ttl is refused once it has passed, and the refusal is audited', async (t) => {
  t.is((await h.control('POST', '/tokens', { name: 'short', team: 'payments', role: 'viewer', ttl_s: 0 })).status, 400);
  t.is((await h.control('POST', '/tokens', { name: 'short', team: 'payments', role: 'viewer', ttl_s: 1.5 })).status, 400);
  const created = (await (await h.control('POST', '/tokens', { name: 'short', team: 'payments', role: 'viewer', ttl_s: 1 })).json()) as { token: string; expires: string };
  t.true(Date.parse(created.expires) > Date.now());
  t.is((await h.controlAs(created.token, 'GET', '/keys')).status, 200);
  await new Promise((r) => setTimeout(r, 1100));
  const expired = await h.controlAs(created.token, 'GET', '/keys');
  t.is(expired.status, 401);
  t.regex(await expired.text(), /operator token short expired at/);
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { control?: { operator: string; action: string; status: number; error?: string } }[] };
  t.true(records.some((r) => r.control?.operator === '(unauthenticated)' && r.control.action === 'GET /keys' && r.control.status === 401 && r.control.error === 'ALT_UNAUTHENTICATED'));
});

test('a token rotated in place: the new secret works at once, the old one as NAME~previous for the grace, then not; the audit log names who still uses the old one', async (t) => {
  const created = (await (await h.control('POST', '/tokens', { name: 'rotor', team: 'payments', role: 'viewer' })).json()) as { token: string };
  const rotated = await h.control('POST', '/tokens/rotor/rotate', { grace_s: 2 });
  t.is(rotated.status, 200);
  const next = (await rotated.json()) as { token: string; name: string; role: string; team: string; previous_until: string };
  t.like(next, { name: 'rotor', role: 'viewer', team: 'payments' });
  t.not(next.token, created.token);
  t.true(Date.parse(next.previous_until) > Date.now());
  t.is((await h.controlAs(next.token, 'GET', '/keys')).status, 200, 'the new secret');
  t.is((await h.controlAs(created.token, 'GET', '/keys')).status, 200, 'the old one, during the grace');
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { control?: { operator: string; action: string } }[] };
  t.true(records.some((r) => r.control?.operator === 'rotor~previous' && r.control.action === 'GET /keys'), 'calls with the old secret are named for it');
  await new Promise((r) => setTimeout(r, 2100));
  const late = await h.controlAs(created.token, 'GET', '/keys');
  t.is(late.status, 401, 'refused once the grace has passed');
  t.regex(await late.text(), /rotor~previous expired at/);
  // Grace 0: the secret in use is refused at once.
  const again = (await (await h.control('POST', '/tokens/rotor/rotate', { grace_s: 0 })).json()) as { token: string; previous_until: string | null };
  t.is(again.previous_until, null);
  t.is((await h.controlAs(next.token, 'GET', '/keys')).status, 401);
  t.is((await h.controlAs(again.token, 'GET', '/keys')).status, 200);
  t.like(await (await h.control('POST', '/tokens/nobody/rotate', {})).json(), { error: { code: 'ALT_NOT_FOUND' } });
  t.is((await h.control('POST', '/tokens/rotor/rotate', { grace_s: -1 })).status, 400);
});

test('a deleted token used again is refused as a revoked credential (ALT_TOKEN_REVOKED), a security event in the audit log distinct from a guess', async (t) => {
  const created = (await (await h.control('POST', '/tokens', { name: 'leaver', team: 'payments', role: 'viewer' })).json()) as { token: string };
  t.is((await h.control('DELETE', '/tokens/leaver')).status, 200);
  const used = await h.controlAs(created.token, 'GET', '/keys');
  t.is(used.status, 401);
  t.regex(await used.text(), /ALT_TOKEN_REVOKED.*leaver was deleted at/);
  const guess = await h.controlAs('altop-never-issued-000000000000', 'GET', '/keys');
  t.regex(await guess.text(), /ALT_UNAUTHENTICATED/);
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { control?: { error?: string; status: number } }[] };
  t.true(records.some((r) => r.control?.error === 'ALT_TOKEN_REVOKED' && r.control.status === 401));
});
