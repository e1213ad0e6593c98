// A changed MCP tool opens an approval: the operator approves the new definition instead of
// editing the policy, and from then on it is the tool's pin — persisted, audited, one approval
// per change however often the list is asked for, none again for a change that was denied.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { stringify as stringifyYaml } from 'yaml';
import { toolDigests } from '../../proxy/src/index.js';
import { McpTestServer } from '../fixtures/mcp-server.js';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';
import { listDirectly, pinWithCli } from '../helpers/mcp-pin.js';

const dir = mkdtempSync(join(tmpdir(), 'altrace-pin-approvals-'));
const stateDir = join(dir, 'state');
const server = new McpTestServer();
const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
let h: Harness;
let key: string;

type Approval = { id: string; status: string; kind: string; rule: string; subject: string; agent: string; request_id: string; pin?: { server: string; tool: string; model: string; structure: string; change: string } };

async function start(): Promise<void> {
  h = await startHarness({ ALTRACE_CONFIG: join(dir, 'config.yaml'), ALTRACE_POLICY: join(dir, 'policy.yaml'), ALTRACE_STATE_DIR: stateDir });
}

test.before(async () => {
  await server.start();
  server.tools.clear();
  server.tools.set('lookup_order', { description: 'Look an order up by id', script: () => text('delivered') });
  server.tools.set('send_email', { description: 'Send an email', script: () => text('sent') });
  const policy = shippedPolicy();
  policy.destinations.upstreams.push('mcp:tools');
  policy.mcp = await pinWithCli(dir, 'tools', await listDirectly(server.url));
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ mcp: { servers: [{ name: 'tools', url: server.url }] } }));
  await start();
  key = (await h.createKey({ agent: 'mail-bot', team: 'support' })).key;
});
test.after.always(async () => {
  await h?.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function through<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ name: 'mail-bot', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.proxyUrl}/mcp/tools`), { requestInit: { headers: { authorization: `Bearer ${key}` } } }));
  try {
    return await use(client);
  } finally {
    await client.close();
  }
}

async function refusalOf(attempt: Promise<unknown>): Promise<{ reason: string; request_id: string }> {
  try {
    await attempt;
  } catch (err) {
    if (err instanceof McpError) return (err.data as { altrace: { reason: string; request_id: string } }).altrace;
    // Refused before the server was asked: the HTTP error carries the JSON-RPC error body.
    const message = (err as Error).message;
    if (message.includes('{')) return (JSON.parse(message.slice(message.indexOf('{'))) as { error: { data: { altrace: { reason: string; request_id: string } } } }).error.data.altrace;
    throw err;
  }
  throw new Error('it was not refused');
}

async function pinApprovals(status = 'all'): Promise<Approval[]> {
  const { approvals } = (await (await h.control('GET', `/approvals?status=${status}`)).json()) as { approvals: Approval[] };
  return approvals.filter((a) => a.kind === 'mcp-pin');
}

async function decisionDetail(requestId: string): Promise<string> {
  let detail = '';
  await eventually(async () => {
    await h.control('GET', '/audit/checkpoint');
    const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { decision?: { request_id: string; detail?: string } }[] };
    detail = records.find((r) => r.decision?.request_id === requestId)?.decision?.detail ?? '';
    return detail !== '';
  }, 5000, 'the refusal is in the audit log');
  return detail;
}

test.serial('a rewritten description opens one approval carrying the tool as it reads now; approved, it is the pin, across a restart', async (t) => {
  const rewritten = { description: 'Send an email to a customer (now with delivery receipts)', script: () => text('sent') };
  server.tools.set('send_email', rewritten);
  const first = await refusalOf(through((c) => c.listTools()));
  t.is(first.reason, 'ALT_MCP_TOOL_CHANGED');
  t.regex(await decisionDetail(first.request_id), /tool send_email: .*; approval apr_[\w-]+ reviews it/);
  // Listed again and again: still one approval for this change.
  for (let i = 0; i < 3; i++) await refusalOf(through((c) => c.listTools()));
  const pending = await pinApprovals('pending');
  t.is(pending.length, 1);
  const [review] = pending;
  t.is(review!.rule, 'mcp-tool-changed');
  t.is(review!.agent, 'mail-bot');
  t.is(review!.request_id, first.request_id);
  t.regex(review!.subject, /^mcp:tools tool send_email/);
  // What approving would pin: the digests of the definition as it reads now.
  const detail = (await (await h.control('GET', `/approvals/${review!.id}`)).json()) as Approval;
  const now = toolDigests({ name: 'send_email', description: rewritten.description, inputSchema: { type: 'object' } });
  t.like(detail.pin, { server: 'tools', tool: 'send_email', change: 'changed' });
  t.is(detail.pin!.model, now.model);
  // A restart expires approvals whose requests waited; a pin review held none and stays.
  await h.close();
  await start();
  t.is((await pinApprovals('pending')).length, 1, 'still pending after a restart');
  const approved = await h.control('POST', `/approvals/${review!.id}/approve`, { reason: 'receipts are fine' });
  t.is(approved.status, 200);
  const { tools } = await through((c) => c.listTools());
  t.true(tools.some((x) => x.name === 'send_email' && x.description === rewritten.description));
  t.deepEqual(await through((c) => c.callTool({ name: 'send_email', arguments: {} })), text('sent'));
  // The operator's decision is in the audit log as a pin change.
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { control?: { target?: string; action?: string } }[] };
  t.true(records.some((r) => JSON.stringify(r).includes(`approval:${review!.id}`) && JSON.stringify(r).includes('pins mcp:tools tool send_email')), 'the approval names the pin');
  // Persisted before acknowledged: a restart keeps the approved pin.
  await h.close();
  await start();
  t.true((await through((c) => c.listTools())).tools.some((x) => x.name === 'send_email'));
});

test.serial('a new tool opens an approval too; denied, it stays refused and is not asked about again', async (t) => {
  server.tools.set('export_contacts', { description: 'Export every contact as CSV', script: () => text('a,b') });
  try {
    const r = await refusalOf(through((c) => c.listTools()));
    t.is(r.reason, 'ALT_MCP_TOOL_UNAPPROVED');
    const review = (await pinApprovals('pending')).find((a) => a.subject.includes('export_contacts'))!;
    t.is(review.rule, 'mcp-tool-new');
    t.is((await h.control('POST', `/approvals/${review.id}/deny`, { reason: 'not needed' })).status, 200);
    t.is((await refusalOf(through((c) => c.listTools()))).reason, 'ALT_MCP_TOOL_UNAPPROVED');
    t.is((await refusalOf(through((c) => c.callTool({ name: 'export_contacts', arguments: {} })))).reason, 'ALT_MCP_TOOL_UNAPPROVED');
    t.is((await pinApprovals('all')).filter((a) => a.subject.includes('export_contacts')).length, 1, 'a denied change is not asked again');
    // Changed once more, it is a different change: asked anew.
    server.tools.set('export_contacts', { description: 'Export the contacts you are allowed to see, as CSV', script: () => text('a,b') });
    await refusalOf(through((c) => c.listTools()));
    t.is((await pinApprovals('pending')).filter((a) => a.subject.includes('export_contacts')).length, 1);
  } finally {
    server.tools.delete('export_contacts');
  }
});

test.serial('regression: a list with several new tools at once opens one review each (the reviews were stored in one tick, and the second transaction failed the stage)', async (t) => {
  const added = ['import_contacts', 'merge_contacts', 'tag_contacts'];
  for (const name of added) server.tools.set(name, { description: `${name.replace('_', ' ')} in the address book`, script: () => text('ok') });
  try {
    const r = await refusalOf(through((c) => c.listTools()));
    t.is(r.reason, 'ALT_MCP_TOOL_UNAPPROVED', 'refused for what it is, not as a failed stage');
    await eventually(async () => (await pinApprovals('pending')).filter((a) => added.some((n) => a.subject.includes(` ${n} `))).length === added.length, 5000, 'one pending review per new tool');
    t.deepEqual((await pinApprovals('pending')).filter((a) => added.some((n) => a.subject.includes(` ${n} `))).map((a) => a.rule), ['mcp-tool-new', 'mcp-tool-new', 'mcp-tool-new']);
  } finally {
    for (const name of added) server.tools.delete(name);
  }
});

test.serial('an mcp-pin approval is answered once; a team operator of another team does not see it', async (t) => {
  const [decided] = (await pinApprovals('approved')).filter((a) => a.subject.includes('send_email'));
  const again = await h.control('POST', `/approvals/${decided!.id}/approve`, {});
  t.is(again.status, 409);
  const created = await h.control('POST', '/tokens', { name: 'billing-ops', team: 'billing' });
  t.is(created.status, 201, await created.clone().text());
  const { token } = (await created.json()) as { token: string };
  t.is((await h.controlAs(token, 'GET', `/approvals/${decided!.id}`)).status, 404);
});
