// The fleet end to end (issue 19): real PostgreSQL, two control-plane replicas and three node
// agents as their own processes, the OpenAI SDK as the client. A key made on one replica works
// on every node; a kill made on the other is refused on every node and ends streams there.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import test from 'ava';
import { stringify as stringifyYaml } from 'yaml';
import { shippedPolicy } from '../helpers/policy.js';
import OpenAI from 'openai';
import { postgresSuite } from '../helpers/postgres-suite.js';
import { startPostgres, type PostgresServer } from '../fixtures/postgres.js';
import { ADMIN_TOKEN, eventually } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';
import { Pool } from 'pg';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import { patience } from '../helpers/patience.js';
import { startFleet, type Fleet } from '../helpers/fleet.js';
import { listDirectly, pinWithCli } from '../helpers/mcp-pin.js';
import { McpTestServer } from '../fixtures/mcp-server.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';

let pg: PostgresServer;
let fleet: Fleet;
/** An MCP server every node reaches as mcp:tools (each node's own config names it). */
const tools = new McpTestServer();

const policyDir = mkdtempSync(join(tmpdir(), 'altrace-fleet-policy-'));

/** The shipped policy with one contract: refunds over 100 and o3 models wait for an operator. */
function approvalPolicy(): string {
  mkdirSync(join(policyDir, 'contracts'));
  writeFileSync(
    join(policyDir, 'contracts', 'payments.yaml'),
    stringifyYaml({
      contract: 'payments',
      version: 1,
      applies_to: { agents: ['payer'] },
      tools: { issue_refund: 'write' },
      approvals: [
        { id: 'big-refund', tool: 'issue_refund', when: { amount: { over: 100 } }, timeout_s: 30 },
        { id: 'reasoning', model: 'o3*', timeout_s: 1 },
      ],
    }),
  );
  const policy = shippedPolicy();
  policy.contracts = { dir: 'contracts' };
  writeFileSync(join(policyDir, 'policy.yaml'), stringifyYaml(policy));
  return join(policyDir, 'policy.yaml');
}

const openai = (proxyUrl: string, key: string) => new OpenAI({ apiKey: key, baseURL: `${proxyUrl}/v1`, maxRetries: 0 });

async function chat(proxyUrl: string, key: string): Promise<{ ok: boolean; code?: string; status?: number }> {
  try {
    await openai(proxyUrl, key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return { ok: true };
  } catch (err) {
    const e = err as InstanceType<typeof OpenAI.APIError>;
    return { ok: false, code: String(e.code ?? ''), status: e.status };
  }
}

/** Waits until the node's control API knows the key (its delta arrived). */
const knowsKey = (node: { controlUrl: string }, id: string) => async () => (await fleet.call(node.controlUrl, 'GET', `/keys/${id}`)).status === 200;

postgresSuite(() => {
  test.before(async () => {
    pg = await startPostgres();
    await tools.start();
    tools.tools.clear();
    tools.tools.set('lookup_order', { description: 'Look an order up by id', script: () => ({ content: [{ type: 'text', text: 'delivered' }] }) });
    writeFileSync(join(policyDir, 'node-config.yaml'), stringifyYaml({ mcp: { servers: [{ name: 'tools', url: tools.url }] } }));
    fleet = await startFleet(pg, 'fleet_main', { replicas: 2, nodes: 3 }, { ALTRACE_POLICY: approvalPolicy(), ALTRACE_CONFIG: join(policyDir, 'node-config.yaml') });
  });
  test.after.always(async () => {
    await fleet?.close();
    await tools.close();
    await pg?.stop();
    rmSync(policyDir, { recursive: true, force: true });
  });

  test.serial('a key created through replica 1 works on all three nodes', async (t) => {
    const res = await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'fleet-bot', team: 'ops' });
    t.is(res.status, 201);
    const { key, id } = (await res.json()) as { key: string; id: string };
    for (const node of fleet.nodes) {
      await eventually(knowsKey(node, id), 5000, `${node.controlUrl} knows key ${id}`);
      t.deepEqual(await chat(node.proxyUrl, key), { ok: true }, `a chat through ${node.proxyUrl}`);
    }
  });

  test.serial('two replicas racing: one token name, one agent in two teams — exactly one of each pair succeeds', async (t) => {
    for (let round = 0; round < 5; round++) {
      const tokens = await Promise.all(fleet.replicas.map((r) => fleet.call(r.controlUrl, 'POST', '/tokens', { name: `racer-${round}`, team: 'ops' })));
      t.deepEqual(tokens.map((r) => r.status).sort(), [201, 409], `token round ${round}`);
      const keys = await Promise.all(fleet.replicas.map((r, i) => fleet.call(r.controlUrl, 'POST', '/keys', { agent: `contested-${round}`, team: i === 0 ? 'red' : 'blue' })));
      t.deepEqual(keys.map((r) => r.status).sort(), [201, 409], `key round ${round}`);
    }
  });

  test.serial("a node's control API reads the fleet's state and refuses writes, naming the control plane", async (t) => {
    const node = fleet.nodes[1]!;
    const listed = (await (await fleet.call(node.controlUrl, 'GET', '/keys')).json()) as { keys: { agent: string }[] };
    t.true(listed.keys.some((k) => k.agent === 'fleet-bot'));
    const res = await fleet.call(node.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'fleet-bot' });
    t.is(res.status, 409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    t.is(body.error.code, 'ALT_FLEET_MANAGED');
    t.regex(body.error.message, /https:\/\/127\.0\.0\.1:\d+/);
    t.is((await fleet.call(node.controlUrl, 'GET', '/kill')).status, 200, 'reads still answer');
  });

  test.serial('a kill through replica 2 is refused on every node and ends a stream under way on every node', async (t) => {
    const res = await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'streamer', team: 'ops' });
    const { key, id } = (await res.json()) as { key: string; id: string };
    for (const node of fleet.nodes) await eventually(knowsKey(node, id), 5000, `${node.controlUrl} knows key ${id}`);
    const ended: number[] = [];
    const errors: string[] = [];
    const streams = await Promise.all(
      fleet.nodes.map(async (node) => {
        fleet.sim.next({ fragments: Array.from({ length: 500 }, (_, i) => `w${i} `), fragmentDelayMs: 20 });
        const s = await openai(node.proxyUrl, key).chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'talk' }] });
        const it = s[Symbol.asyncIterator]();
        await it.next();
        // Wrapped: an async function returning the promise would wait for it.
        return { done: (async () => {
          try {
            while (!(await it.next()).done);
            errors.push('completed');
          } catch (err) {
            errors.push(String((err as InstanceType<typeof OpenAI.APIError>).code ?? (err as Error).message));
          } finally {
            ended.push(performance.now());
          }
        })() };
      }),
    );
    const kill = await fleet.call(fleet.replicas[1]!.controlUrl, 'POST', '/kill', { scope: 'agent', target: 'streamer', reason: 'fleet test' });
    const ackAt = performance.now();
    t.is(kill.status, 201);
    await Promise.all(streams.map((s) => s.done));
    t.deepEqual(errors, ['ALT_KILLED_AGENT', 'ALT_KILLED_AGENT', 'ALT_KILLED_AGENT']);
    const worst = Math.max(...ended) - ackAt;
    // 500 fragments 20 ms apart: a stream the kill did not reach would run for ten seconds.
    t.true(worst < patience(1000), `every stream ended within ${worst.toFixed(0)} ms of the acknowledgement`);
    for (const node of fleet.nodes) t.like(await chat(node.proxyUrl, key), { ok: false, code: 'ALT_KILLED_AGENT', status: 403 });
    t.log(`kill through replica 2: last of 3 node streams ended ${worst.toFixed(1)} ms after the acknowledgement`);
  });

  test.serial('altrace nodes lists every node with its applied version and contact', async (t) => {
    type Listed = { nodes: { name: string; applied_version: number; lag: number; last_contact: string | null }[] };
    const list = async () => ((await (await fleet.call(fleet.replicas[1]!.controlUrl, 'GET', '/nodes')).json()) as Listed).nodes;
    t.deepEqual((await list()).map((n) => n.name).sort(), ['node-0', 'node-1', 'node-2']);
    // Heartbeats carry each node's applied version; a replica records a moved one within a second.
    await eventually(async () => (await list()).every((n) => n.last_contact !== null && n.applied_version > 0 && n.lag === 0), 5000, 'every node caught up in the list');
    const cli = await runCli(['nodes', '--json', '--url', fleet.replicas[0]!.controlUrl, '--token', ADMIN_TOKEN]);
    t.is(cli.code, 0, cli.stderr);
    t.deepEqual((JSON.parse(cli.stdout) as Listed).nodes.map((n) => n.lag), [0, 0, 0]);
  });

  test.serial('an approval asked on node 3 is listed on the replicas, approved on replica 2, and releases the request on node 3', async (t) => {
    const created = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'payer', team: 'finance' })).json()) as { key: string; id: string };
    const node = fleet.nodes[2]!;
    await eventually(knowsKey(node, created.id), 5000, 'node 3 knows the key');
    const tools = [{ type: 'function' as const, function: { name: 'issue_refund', parameters: { type: 'object', properties: { amount: { type: 'number' } } } } }];
    const ask = async (amount: number) => {
      fleet.sim.next({ toolCall: { name: 'issue_refund', arguments: { order_id: `R-${amount}`, amount } } });
      return openai(node.proxyUrl, created.key).chat.completions.create({ model: 'gpt-4o-mini', tools, messages: [{ role: 'user', content: `refund ${amount}` }] });
    };
    type Pending = { id: string; subject: string; arguments: string | null; status: string };
    const pendingOn = async (url: string) => ((await (await fleet.call(url, 'GET', '/approvals')).json()) as { approvals: Pending[] }).approvals;

    let settled = false;
    const approved = ask(250).finally(() => (settled = true));
    let seen: Pending[] = [];
    await eventually(async () => (seen = await pendingOn(fleet.replicas[1]!.controlUrl)).length === 1, 5000, 'the approval listed on replica 2');
    t.is(seen[0]!.subject, 'issue_refund');
    t.false(settled, 'the agent waits');
    // Node 3 streams to replica 1 (its first choice): that replica holds the arguments while the call waits.
    const onFirst = await pendingOn(fleet.replicas[0]!.controlUrl);
    t.deepEqual(JSON.parse(onFirst[0]!.arguments!), { order_id: 'R-250', amount: 250 });
    t.deepEqual((await pendingOn(node.controlUrl)).map((a) => a.id), [seen[0]!.id], 'the node sees the pending approval');
    t.is((await fleet.call(node.controlUrl, 'POST', `/approvals/${seen[0]!.id}/approve`, {})).status, 409, 'the node does not decide it');
    const decided = await fleet.call(fleet.replicas[1]!.controlUrl, 'POST', `/approvals/${seen[0]!.id}/approve`, { reason: 'checked' });
    t.is(decided.status, 200);
    const reply = await approved;
    t.is(reply.choices[0]!.message.tool_calls![0]!.type, 'function');

    const denied = ask(900);
    await eventually(async () => (seen = await pendingOn(fleet.replicas[0]!.controlUrl)).length === 1, 5000, 'the second approval listed');
    t.is((await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', `/approvals/${seen[0]!.id}/deny`, { reason: 'over the cap' })).status, 200);
    const err = await t.throwsAsync(denied);
    t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_APPROVAL_DENIED');
  });

  test.serial('an approval nobody answers expires on the node, and the control plane records it expired', async (t) => {
    const created = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'payer', team: 'finance' })).json()) as { key: string; id: string };
    const node = fleet.nodes[1]!;
    await eventually(knowsKey(node, created.id), 5000, 'node 2 knows the key');
    const err = await t.throwsAsync(openai(node.proxyUrl, created.key).chat.completions.create({ model: 'o3-mini', messages: [{ role: 'user', content: 'think' }] }));
    t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_APPROVAL_TIMEOUT');
    await eventually(
      async () => ((await (await fleet.call(fleet.replicas[1]!.controlUrl, 'GET', '/approvals?status=expired')).json()) as { approvals: { subject: string }[] }).approvals.some((a) => a.subject === 'o3-mini'),
      5000,
      'the expiry recorded on the control plane',
    );
  });

  test.serial("a node's enforcement rule quarantines an agent fleet-wide; the nodes' spend adds up on the control plane", async (t) => {
    const created = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'leaky', team: 'ops' })).json()) as { key: string; id: string };
    for (const node of fleet.nodes) await eventually(knowsKey(node, created.id), 5000, `${node.controlUrl} knows the key`);
    // The shipped rule: three responses refused for a deny pattern within ten minutes → quarantine.
    for (let i = 0; i < 3; i++) {
      fleet.sim.next({ text: `here it is -----BEGIN PRIVATE KEY----- ${i}` });
      t.like(await chat(fleet.nodes[0]!.proxyUrl, created.key), { ok: false, code: 'ALT_RESPONSE_PATTERN_DENIED' });
    }
    const levelOn = async (url: string) => ((await (await fleet.call(url, 'GET', '/agents/leaky')).json()) as { level?: string }).level;
    await eventually(async () => (await levelOn(fleet.replicas[1]!.controlUrl)) === 'quarantine', 5000, 'the control plane knows the quarantine');
    await eventually(async () => (await levelOn(fleet.nodes[2]!.controlUrl)) === 'quarantine', 5000, 'another node holds it too');

    type Spend = { rows: { agent: string; requests: number; usd: number }[] };
    const spendOf = async (agent: string) => ((await (await fleet.call(fleet.replicas[1]!.controlUrl, 'GET', '/spend?by=agent&window=daily')).json()) as Spend).rows.find((r) => r.agent === agent);
    // fleet-bot made one request on each of the three nodes (the first test).
    await eventually(async () => (await spendOf('fleet-bot'))?.requests === 3, 5000, 'the three nodes’ spend of fleet-bot on the control plane');
  });

  test.serial('a run whose calls land on different nodes, and on both replicas, is judged as one run', async (t) => {
    const created = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'looper', team: 'ops' })).json()) as { key: string; id: string };
    for (const node of fleet.nodes) await eventually(knowsKey(node, created.id), 5000, `${node.controlUrl} knows the key`);
    const outcomes: string[] = [];
    // Round robin over the three nodes (nodes 1 and 3 stream to replica 1, node 2 to replica 2).
    for (let i = 0; i < 9; i++) {
      const node = fleet.nodes[i % 3]!;
      const client = new OpenAI({ apiKey: created.key, baseURL: `${node.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: { 'x-altrace-run': 'run-across' } });
      try {
        await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'same again' }] });
        outcomes.push('ok');
      } catch (err) {
        outcomes.push(String((err as InstanceType<typeof OpenAI.APIError>).code));
      }
      // The next call may land on another node: give the step its few milliseconds to get there.
      await new Promise((r) => setTimeout(r, 100));
    }
    // The shipped run_loops: refused from the 5th repeat, the run ended at the 8th, refused after.
    t.deepEqual(outcomes, ['ok', 'ok', 'ok', 'ok', 'ALT_RUN_LOOP_BLOCKED', 'ALT_RUN_LOOP_BLOCKED', 'ALT_RUN_LOOP_BLOCKED', 'ALT_RUN_TERMINATED', 'ALT_RUN_TERMINATED']);
  });

  test.serial('a policy pushed to the control plane is enforced on every node in place of its own file', async (t) => {
    const created = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'pinned', team: 'ops' })).json()) as { key: string; id: string };
    for (const node of fleet.nodes) await eventually(knowsKey(node, created.id), 5000, `${node.controlUrl} knows the key`);
    for (const node of fleet.nodes) t.deepEqual(await chat(node.proxyUrl, created.key), { ok: true }, 'no contract pins it yet');
    const dir = mkdtempSync(join(tmpdir(), 'altrace-push-'));
    try {
      mkdirSync(join(dir, 'pinned'));
      writeFileSync(join(dir, 'pinned', 'pinned.yaml'), stringifyYaml({ contract: 'pinned', version: 3, applies_to: { agents: ['pinned'] }, models: ['gpt-4o'] }));
      const policy = shippedPolicy();
      policy.contracts = { dir: 'pinned' };
      writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
      // A broken contract is refused by the control plane, naming the file, and nothing changes.
      writeFileSync(join(dir, 'pinned', 'broken.yaml'), 'contract: broken\nversion: one\n');
      const refused = await runCli(['policy', 'push', join(dir, 'policy.yaml'), '--url', fleet.replicas[1]!.controlUrl, '--token', ADMIN_TOKEN]);
      t.is(refused.code, 2, refused.stderr);
      t.regex(refused.stderr, /broken\.yaml/);
      rmSync(join(dir, 'pinned', 'broken.yaml'));
      const pushed = await runCli(['policy', 'push', join(dir, 'policy.yaml'), '--url', fleet.replicas[1]!.controlUrl, '--token', ADMIN_TOKEN]);
      t.is(pushed.code, 0, pushed.stderr);
      t.regex(pushed.stdout, /pushed policy [0-9a-f]{16} with 1 contract \(pinned@3\)/);
      for (const node of fleet.nodes) {
        await eventually(async () => (await chat(node.proxyUrl, created.key)).code === 'ALT_CONTRACT_MODEL_DENIED', 5000, `${node.proxyUrl} enforces the pushed contract`);
      }
      t.is((await (await fleet.call(fleet.replicas[0]!.controlUrl, 'GET', '/policy')).json() as { contracts: string[] }).contracts[0], 'pinned@3');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.serial('the MCP registry travels with the pushed policy: every node lists the pinned tools, and refuses one that no longer reads as pinned', async (t) => {
    const created = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'POST', '/keys', { agent: 'mcp-bot', team: 'ops' })).json()) as { key: string; id: string };
    for (const node of fleet.nodes) await eventually(knowsKey(node, created.id), 5000, `${node.controlUrl} knows the key`);
    const dir = mkdtempSync(join(tmpdir(), 'altrace-push-mcp-'));
    const list = async (proxyUrl: string): Promise<string> => {
      const client = new Client({ name: 'mcp-bot', version: '1.0.0' });
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(`${proxyUrl}/mcp/tools`), { requestInit: { headers: { authorization: `Bearer ${created.key}` } } }));
        return (await client.listTools()).tools.map((x) => x.name).join(',');
      } catch (err) {
        return err instanceof McpError ? (err.data as { altrace: { reason: string } }).altrace.reason : (err as Error).message;
      } finally {
        await client.close();
      }
    };
    try {
      mkdirSync(join(dir, 'pinned'));
      writeFileSync(join(dir, 'pinned', 'pinned.yaml'), stringifyYaml({ contract: 'pinned', version: 3, applies_to: { agents: ['pinned'] }, models: ['gpt-4o'] }));
      const policy = shippedPolicy();
      policy.contracts = { dir: 'pinned' };
      policy.destinations.upstreams.push('mcp:tools');
      policy.mcp = await pinWithCli(dir, 'tools', await listDirectly(tools.url));
      writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
      const pushed = await runCli(['policy', 'push', join(dir, 'policy.yaml'), '--url', fleet.replicas[0]!.controlUrl, '--token', ADMIN_TOKEN]);
      t.is(pushed.code, 0, pushed.stderr);
      for (const node of fleet.nodes) await eventually(async () => (await list(node.proxyUrl)) === 'lookup_order', 5000, `${node.proxyUrl} lists the pinned tool`);
      // Reworded, nothing a scanner would object to: only the pin tells it changed.
      tools.tools.set('lookup_order', { description: 'Look an order up by id, with its delivery status', script: () => ({ content: [] }) });
      type Pending = { approvals: { id: string; kind: string; subject: string }[] };
      const reviews = async () => ((await (await fleet.call(fleet.replicas[1]!.controlUrl, 'GET', '/approvals')).json()) as Pending).approvals.filter((a) => a.kind === 'mcp-pin');
      // Node 0 lists it first: its review reaches the control plane, and from it every node learns the
      // tool changed — node 2, which never listed it, refuses an agent's call to it before the server runs it.
      t.is(await list(fleet.nodes[0]!.proxyUrl), 'ALT_MCP_TOOL_CHANGED');
      await eventually(async () => (await reviews()).length === 1, 5000, 'the review reaches the control plane');
      const call = async (proxyUrl: string): Promise<string> => {
        const client = new Client({ name: 'mcp-bot', version: '1.0.0' });
        try {
          await client.connect(new StreamableHTTPClientTransport(new URL(`${proxyUrl}/mcp/tools`), { requestInit: { headers: { authorization: `Bearer ${created.key}` } } }));
          await client.callTool({ name: 'lookup_order', arguments: { order_id: '7' } });
          return 'ok';
        } catch (err) {
          const m = (err as Error).message;
          return /ALT_[A-Z_]+/.exec(m)?.[0] ?? m;
        } finally {
          await client.close();
        }
      };
      await eventually(async () => (await call(fleet.nodes[2]!.proxyUrl)) === 'ALT_MCP_TOOL_CHANGED', 5000, 'node 2 refuses calls to the tool node 0 found changed');
      for (const node of fleet.nodes) t.is(await list(node.proxyUrl), 'ALT_MCP_TOOL_CHANGED', `${node.proxyUrl} refuses the rewritten tool`);
      // Three nodes saw the change: the control plane holds one review of it, and approving it there pins it on every node.
      await new Promise((r) => setTimeout(r, 300));
      const [review] = await reviews();
      t.regex(review!.subject, /^mcp:tools tool lookup_order/);
      t.is((await fleet.call(fleet.replicas[1]!.controlUrl, 'POST', `/approvals/${review!.id}/approve`, { reason: 'reviewed' })).status, 200);
      for (const node of fleet.nodes) await eventually(async () => (await list(node.proxyUrl)) === 'lookup_order', 5000, `${node.proxyUrl} lists the tool as approved`);
      t.is(await call(fleet.nodes[2]!.proxyUrl), 'ok', 'and calls to it pass again');
      t.is((await reviews()).length, 0, 'nothing left to review');
    } finally {
      tools.tools.set('lookup_order', { description: 'Look an order up by id', script: () => ({ content: [{ type: 'text', text: 'delivered' }] }) });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.serial('a source guessing tokens against one replica is locked out on both; an admin lifts it once', async (t) => {
    // From 127.0.0.2, so the admin's own calls (127.0.0.1) are not the ones locked out.
    const from = (url: string, token: string, method = 'GET', path = '/api/v1/keys') =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(url);
        const req = httpRequest({ host: u.hostname, port: u.port, path, method, localAddress: '127.0.0.2', headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end();
      });
    const [a, b] = [fleet.replicas[0]!, fleet.replicas[1]!];
    for (let i = 0; i < 21; i++) await from(a.controlUrl, `altop-wrong-${i}`);
    t.is(await from(b.controlUrl, ADMIN_TOKEN), 429, 'the other replica refuses the source, right token or not');
    const { lockouts } = (await (await fleet.call(b.controlUrl, 'GET', '/lockouts')).json()) as { lockouts: { source: string }[] };
    t.true(lockouts.some((l) => l.source === '127.0.0.2'));
    t.is((await fleet.call(b.controlUrl, 'DELETE', '/lockouts/127.0.0.2')).status, 200);
    t.is(await from(a.controlUrl, ADMIN_TOKEN), 200, 'lifted on one replica, lifted on both');
  });

  test.serial('the control plane lists each agent with the nodes that saw it, and every node’s enforcement status', async (t) => {
    type Agents = { agents: { id: string; seen_on?: { node: string }[] }[] };
    const seenOn = async () => ((await (await fleet.call(fleet.replicas[1]!.controlUrl, 'GET', '/agents')).json()) as Agents).agents.find((a) => a.id === 'fleet-bot')?.seen_on?.map((s) => s.node).sort();
    // Nodes report every five seconds.
    await eventually(async () => JSON.stringify(await seenOn()) === JSON.stringify(['node-0', 'node-1', 'node-2']), 12_000, 'fleet-bot seen on the three nodes');
    const status = (await (await fleet.call(fleet.replicas[0]!.controlUrl, 'GET', '/node')).json()) as { nodes: { node: string; status: { enforcement: string } }[] };
    t.deepEqual(status.nodes.map((n) => [n.node, n.status.enforcement]), [['node-0', 'off'], ['node-1', 'off'], ['node-2', 'off']]);
  });

  test.serial('altrace audit verify against the control plane verifies every node’s shipped log, and names a tampered record and a fork', async (t) => {
    type Report = { ok: boolean; problem: string | null; fleet: { ok: boolean; entries: number; signed_entries: number }; logs: { node: string; ok: boolean; records: number; signed_records: number; problem: string | null }[] };
    const verify = async () => (await (await fleet.call(fleet.replicas[1]!.controlUrl, 'GET', '/audit/verify')).json()) as Report;
    let r: Report = { ok: false, problem: null, fleet: { ok: false, entries: 0, signed_entries: 0 }, logs: [] };
    // Nodes ship every second and sign a checkpoint every second: wait until all of it is in.
    // Checkpoints arrive every second: until the last has come, the newest records are not under one yet.
    const settled = (x: Report) => x.ok && x.logs.length === 3 && x.logs.every((l) => l.records > 0 && l.signed_records === l.records) && x.fleet.entries >= 3 && x.fleet.signed_entries === x.fleet.entries;
    await eventually(async () => settled((r = await verify())), 15_000, 'every node log shipped and signed').catch((err: Error) => {
      throw new Error(`${err.message}; the last report: ${JSON.stringify(r)}`);
    });
    t.deepEqual(r.logs.map((l) => l.node).sort(), ['node-0', 'node-1', 'node-2']);
    // The fleet log: every node checkpoint received is a leaf under a signed fleet checkpoint (held in settled()).
    t.true(r.fleet.ok, JSON.stringify(r.fleet));
    // Nodes go on shipping records and checkpoints: the other replica's answer is asked for until
    // one arrives with every shipped record under a checkpoint, as the first one was.
    let cli = await runCli(['audit', 'verify', '--url', fleet.replicas[0]!.controlUrl, '--token', ADMIN_TOKEN]);
    await eventually(async () => cli.code === 0 || (cli = await runCli(['audit', 'verify', '--url', fleet.replicas[0]!.controlUrl, '--token', ADMIN_TOKEN])).code === 0, 15_000, 'the CLI verifies through the other replica').catch((err: Error) => {
      throw new Error(`${err.message}; the last answer: ${cli.stdout}`);
    });
    t.regex(cli.stdout, /ok: 3 node logs verify/);

    const store = await PgStore.open(fleet.databaseUrl);
    const pool = new Pool({ connectionString: fleet.databaseUrl });
    pool.on('error', () => {});
    try {
      const log = (await store.audit.logs()).find((l) => l.nodeId === 'node-1')!;
      const [first] = await store.audit.records(log.log);
      // A record changed where the control plane keeps it (its last byte, in the batch that starts the log): its hash no longer chains, and the signed root disagrees.
      const flip = (pos: number) => pool.query('UPDATE audit_batches SET framed = set_byte(framed, $2, get_byte(framed, $2) # 1) WHERE log = $1 AND first_seq = 0', [log.log, pos]);
      await flip(4 + first!.record.length - 1);
      const tampered = await verify();
      t.false(tampered.ok);
      t.regex(tampered.problem!, /^node node-1: record 1 does not follow record 0: record 0 was changed/);
      const failed = await runCli(['audit', 'verify', '--url', fleet.replicas[0]!.controlUrl, '--token', ADMIN_TOKEN]);
      t.is(failed.code, 1);
      t.regex(failed.stdout, /FAILED node-1/);
      await flip(4 + first!.record.length - 1);
      t.true((await verify()).ok, 'restored, it verifies again');
      // A node checkpoint taken out of the store: the node's log alone might not show it, the fleet log does.
      const cps = await pool.query<{ size: string; note: string }>('DELETE FROM audit_checkpoints WHERE log = $1 AND size = (SELECT min(size) FROM audit_checkpoints WHERE log = $1) RETURNING size, note', [log.log]);
      const unhooked = await verify();
      t.false(unhooked.ok);
      t.regex(unhooked.problem!, /^fleet log: fleet log entry \d+ \(node node-1\) names a checkpoint the node's log no longer holds/);
      await pool.query('INSERT INTO audit_checkpoints (log, size, note, received_at) VALUES ($1, $2, $3, now())', [log.log, cps.rows[0]!.size, cps.rows[0]!.note]);
      t.true((await verify()).ok, 'put back, it verifies again');
      // The node's log rewritten after shipping: the same record shipped again with other bytes.
      const changed = Buffer.from(first!.record);
      changed[changed.length - 1]! ^= 0x01;
      const framed = Buffer.concat([Buffer.alloc(4), changed]);
      framed.writeUInt32BE(changed.length, 0);
      const fork = await store.audit.store({ log: log.log, nodeId: 'node-1', firstSeq: 0, framed, checkpoint: null, at: Date.now() });
      t.is(fork.forks, 1);
      const forked = await verify();
      t.false(forked.ok);
      t.regex(forked.problem!, /node node-1: fork: record 0 was shipped again/);
    } finally {
      await pool.end();
      await store.close();
    }
  });
});
