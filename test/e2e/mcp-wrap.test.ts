// Stdio MCP servers governed through `altrace mcp wrap`: real servers from npm
// (@modelcontextprotocol/server-memory, server-everything, server-filesystem) started by the
// wrap, the MCP SDK's stdio client talking to the wrap as it would to the server, every message
// through the agent's chain.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, McpError } from '@modelcontextprotocol/sdk/types.js';
import { stringify as stringifyYaml } from 'yaml';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';
import { pinWithCli } from '../helpers/mcp-pin.js';
import { ROOT, runCli } from '../helpers/process.js';

const BIN = join(ROOT, 'bin/altrace.js');
const serverScript = (name: string) => join(ROOT, `node_modules/@modelcontextprotocol/${name}/dist/index.js`);
const dir = mkdtempSync(join(tmpdir(), 'altrace-mcp-wrap-'));
const files = join(dir, 'files');
let h: Harness;
let key: string;
let otherKey: string;

/** The server's own stdio client: what `altrace mcp pin` is given, as an operator would. */
async function directList(script: string, args: string[] = []): Promise<unknown> {
  const client = new Client({ name: 'pinner', version: '1.0.0' });
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [script, ...args], env: { PATH: process.env.PATH ?? '', MEMORY_FILE_PATH: join(dir, 'pin-memory.json') }, stderr: 'ignore' }));
  try {
    return await client.listTools();
  } finally {
    await client.close();
  }
}

test.before(async () => {
  rmSync(files, { recursive: true, force: true });
  await import('node:fs/promises').then((fs) => fs.mkdir(files));
  writeFileSync(join(files, 'notes.txt'), 'Quarterly numbers are in the usual place.\n');
  writeFileSync(join(files, 'deploy.env'), 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ8xAmpLe9\n');
  const memory = (await pinWithCli(dir, 'memory', await directList(serverScript('server-memory')))).servers;
  // The approved list of "memory-changed" is the real one with one description as it was
  // "approved" before the server changed it: what a rug pull looks like to the proxy.
  const listed = (await directList(serverScript('server-memory'))) as { tools: { name: string; description: string }[] };
  listed.tools[0]!.description = 'Create entities in the knowledge graph (approved wording)';
  const changed = (await pinWithCli(dir, 'memory-changed', listed)).servers;
  const policy = shippedPolicy();
  policy.destinations.upstreams.push('mcp:memory', 'mcp:memory-changed', 'mcp:everything', 'mcp:files', 'mcp:memory-old', 'mcp:retired', 'mcp:fenced');
  // The registry's identity of the server (server.json): memory at the version installed here;
  // memory-old lists a version that is not what runs; retired is blocked.
  const installed = (JSON.parse(readFileSync(join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/package.json'), 'utf8')) as { version: string }).version;
  const serverJson = (version: string) => ({ name: 'io.github.modelcontextprotocol/server-memory', version, repository: { url: 'https://github.com/modelcontextprotocol/servers', source: 'github' }, packages: [{ registryType: 'npm', identifier: '@modelcontextprotocol/server-memory', version, transport: { type: 'stdio' } }] });
  policy.mcp = {
    servers: {
      ...memory,
      memory: { ...(memory.memory as object), server: serverJson(installed) },
      ...changed,
      'memory-old': { server: serverJson('2025.1.1') },
      retired: { trust: 'blocked' },
      // Declares where it may connect: this agent has no BPF confinement, so it is never started.
      fenced: { egress: ['127.0.0.1:9'] },
    },
  };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  const stdio = (name: string) => ({ name, transport: 'stdio' });
  writeFileSync(join(dir, 'config.yaml'), stringifyYaml({ mcp: { servers: [stdio('memory'), stdio('memory-changed'), stdio('everything'), stdio('files'), stdio('memory-old'), stdio('retired'), stdio('fenced')] } }));
  h = await startHarness({ ALTRACE_CONFIG: join(dir, 'config.yaml'), ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'notes-bot', team: 'support' })).key;
  otherKey = (await h.createKey({ agent: 'other-bot', team: 'support' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The MCP SDK's stdio client, its server started through `altrace mcp wrap`. */
async function wrapped<T>(server: string, command: string[], use: (client: Client, transport: StdioClientTransport) => Promise<T>, env: Record<string, string> = {}): Promise<T> {
  const client = new Client({ name: 'notes-bot', version: '1.0.0' });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', 'wrap', '--server', server, '--proxy', h.proxyUrl, '--', ...command],
    env: { PATH: process.env.PATH ?? '', ALTRACE_KEY: key, MEMORY_FILE_PATH: join(dir, `${server}-memory.json`), ...env },
    stderr: 'pipe',
  });
  await client.connect(transport);
  try {
    return await use(client, transport);
  } finally {
    await client.close();
  }
}

async function refusal(attempt: () => Promise<unknown>): Promise<{ reason: string; stage: string; request_id: string; message: string }> {
  try {
    await attempt();
  } catch (err) {
    if (err instanceof McpError) return { ...(err.data as { altrace: { reason: string; stage: string; request_id: string } }).altrace, message: err.message };
    throw err;
  }
  throw new Error('it was not refused');
}

async function audited(requestId: string): Promise<{ reason: string; agent: string; provider: string; detail?: string }> {
  await h.control('GET', '/audit/checkpoint');
  let found: { decision: { request_id: string; reason: string; agent: string; provider: string; detail?: string } } | undefined;
  await eventually(async () => {
    const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { decision?: { request_id: string } }[] };
    found = records.find((r) => r.decision?.request_id === requestId) as typeof found;
    return found !== undefined;
  }, 5000, 'the decision is in the audit log');
  return found!.decision;
}

test.serial('server-memory through the wrap: its pinned tools are listed, a call runs on the server and its answer comes back', async (t) => {
  const graph = await wrapped('memory', [process.execPath, serverScript('server-memory')], async (client) => {
    const { tools } = await client.listTools();
    t.true(tools.some((x) => x.name === 'create_entities'));
    await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'Ada', entityType: 'person', observations: ['writes the quarterly report'] }] } });
    return client.callTool({ name: 'read_graph', arguments: {} });
  });
  t.regex(JSON.stringify(graph), /writes the quarterly report/);
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { principal?: { agent: string }; decision?: { outcome: string } }[] };
  const mine = records.filter((r) => r.decision && r.principal?.agent === 'notes-bot');
  t.true(mine.length >= 5, `the relay, initialize, tools/list and the two calls are decisions of the agent (${mine.length})`);
});

test.serial('the registry names the package: a launch of another version, of a blocked server, or of one whose egress cannot be enforced is refused before the server starts', async (t) => {
  for (const [server, reason] of [['memory-old', 'ALT_MCP_SERVER_MISMATCH'], ['retired', 'ALT_MCP_SERVER_BLOCKED'], ['fenced', 'ALT_MCP_EGRESS_UNENFORCED']] as const) {
    const marker = join(dir, `${server}-started`);
    const r = await runCli(['mcp', 'wrap', '--server', server, '--proxy', h.proxyUrl, '--key', key, '--', process.execPath, '-e', `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x')`, join(ROOT, 'node_modules/@modelcontextprotocol/server-memory/dist/index.js')]);
    t.is(r.code, 1, r.stderr);
    t.regex(r.stderr, new RegExp(`refused the relay of MCP server ${server}: 403 ${reason}`));
    t.false(existsSync(marker), 'the server was never started');
  }
  // The audit record says what was launched and what the registry lists. (The wrapped
  // server-memory of the first test was launched at the listed version: it ran.)
  await runCli(['mcp', 'wrap', '--server', 'memory-old', '--proxy', h.proxyUrl, '--key', key, '--', process.execPath, serverScript('server-memory')]);
  await h.control('GET', '/audit/checkpoint');
  const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { decision?: { reason: string; detail?: string } }[] };
  const unenforced = records.filter((r) => r.decision?.reason === 'ALT_MCP_EGRESS_UNENFORCED').map((r) => r.decision!.detail ?? '');
  t.true(unenforced.some((d) => /MCP server fenced declares egress that cannot be enforced here: this agent does not confine processes \(node\.enforcement: off/.test(d)), unenforced.join(' | '));
  const details = records.filter((r) => r.decision?.reason === 'ALT_MCP_SERVER_MISMATCH').map((r) => r.decision!.detail ?? '');
  t.true(details.some((d) => /^launched npm:@modelcontextprotocol\/server-memory@\d[\w.]*; the registry lists npm:@modelcontextprotocol\/server-memory@2025\.1\.1$/.test(d)), details.join(' | '));
  t.true(details.some((d) => /could not name the package/.test(d)), 'a launch through node -e is not one the wrap can name');
});

test.serial('a stdio server whose tool no longer reads as approved is refused through the wrap, naming the tool', async (t) => {
  const r = await wrapped('memory-changed', [process.execPath, serverScript('server-memory')], (client) => refusal(() => client.listTools()));
  t.is(r.reason, 'ALT_MCP_TOOL_CHANGED');
  const record = await audited(r.request_id);
  t.is(record.reason, 'ALT_MCP_TOOL_CHANGED');
  t.regex(record.detail ?? '', /tool create_entities: what the model reads/);
});

test.serial('server-everything: a secret in a tool result is cut before the client sees it; a plain echo passes', async (t) => {
  const echoed = await wrapped('everything', [process.execPath, serverScript('server-everything'), 'stdio'], async (client) => {
    const echo = await client.callTool({ name: 'echo', arguments: { message: 'hello through the chain' } });
    const r = await refusal(() => client.callTool({ name: 'get-env', arguments: {} }));
    t.is(r.reason, 'ALT_CONTENT_SECRET');
    return echo;
  }, { GITHUB_TOKEN: 'ghp_' + 'R8x2Lm4Qp7Vz1Nc5Hb9Kd3Tf6Wy0Js2Ga8Ue' });
  t.regex(JSON.stringify(echoed), /hello through the chain/);
});

test.serial("the server's own requests reach the client through the chain: sampling and elicitation answered, their answers back to the server", async (t) => {
  const client = new Client({ name: 'notes-bot', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  const sampled: string[] = [];
  const elicited: string[] = [];
  client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
    const first = req.params.messages[0]?.content;
    sampled.push(first && 'text' in first ? String(first.text) : '');
    return { role: 'assistant', content: { type: 'text', text: 'the sampled answer is four' }, model: 'client-model', stopReason: 'endTurn' };
  });
  client.setRequestHandler(ElicitRequestSchema, async (req) => {
    elicited.push(req.params.message);
    return { action: 'accept', content: { name: 'Dana Reyes', check: true, integer: 7 } };
  });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [BIN, 'mcp', 'wrap', '--server', 'everything', '--proxy', h.proxyUrl, '--', process.execPath, serverScript('server-everything'), 'stdio'],
    // Streams of the server's messages end every 400 ms here (60 s by default): the requests below span several.
    env: { PATH: process.env.PATH ?? '', ALTRACE_KEY: key, ALTRACE_WRAP_STREAM_ROTATE_MS: '400' },
    stderr: 'pipe',
  });
  let wrapLog = '';
  transport.stderr?.on('data', (d: Buffer) => (wrapLog += d));
  await client.connect(transport);
  try {
    const sampling = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'what is two plus two?', maxTokens: 10 } });
    t.regex(JSON.stringify(sampling), /the sampled answer is four/, wrapLog);
    t.deepEqual(sampled.map((x) => /two plus two/.test(x)), [true], 'the server asked the client once, with its prompt');
    // A second request after the stream that carried the first has ended: the next stream carries it.
    await new Promise((r) => setTimeout(r, 1_000));
    const again = await client.callTool({ name: 'trigger-sampling-request', arguments: { prompt: 'and three plus three?', maxTokens: 10 } });
    t.regex(JSON.stringify(again), /the sampled answer is four/, wrapLog);
    t.is(sampled.length, 2);
    const elicitation = await client.callTool({ name: 'trigger-elicitation-request', arguments: {} });
    t.regex(JSON.stringify(elicitation), /Dana Reyes/, wrapLog);
    t.is(elicited.length, 1);
  } finally {
    await client.close();
  }
  t.notRegex(wrapLog, /does not relay server requests/);
  // The server's messages came through the agent's event stream, a governed request of this agent,
  // recorded once the stream ended (the wrap went with its client).
  let seen = '';
  await eventually(async () => {
    await h.control('GET', '/audit/checkpoint');
    const { records } = (await (await h.control('GET', '/audit?limit=1000')).json()) as { records: { decision?: Record<string, unknown> }[] };
    // operation "stream": the GET of /mcp/everything; its fragments are the server's messages it carried (two requests at least).
    const streams = records.filter((r) => r.decision?.upstream === 'mcp:everything' && r.decision.operation === 'stream' && Number(r.decision.fragments ?? 0) >= 1);
    seen = JSON.stringify(records.filter((r) => r.decision?.upstream === 'mcp:everything').map((r) => [r.decision!.operation, r.decision!.stream, r.decision!.fragments]));
    // Several streams, one after another (each a decision), and together they carried all three requests.
    return streams.length >= 2 && streams.reduce((n, r) => n + Number(r.decision!.fragments ?? 0), 0) >= 3;
  }, 5000, 'the event streams of the server\'s messages are recorded decisions').catch(() => t.fail(seen));
});

test.serial('server-filesystem: a file is read through the wrap; a file holding a cloud secret is not', async (t) => {
  await wrapped('files', [process.execPath, serverScript('server-filesystem'), files], async (client) => {
    const notes = await client.callTool({ name: 'read_text_file', arguments: { path: join(files, 'notes.txt') } });
    t.regex(JSON.stringify(notes), /Quarterly numbers/);
    const r = await refusal(() => client.callTool({ name: 'read_text_file', arguments: { path: join(files, 'deploy.env') } }));
    t.is(r.reason, 'ALT_CONTENT_SECRET');
  });
});

test.serial('without its relay a stdio server is not reached, and a relay opened with one key does not serve another', async (t) => {
  const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
  const post = (k: string, relay?: string) =>
    fetch(`${h.proxyUrl}/mcp/everything`, { method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...(relay ? { 'x-altrace-relay': relay } : {}) }, body: JSON.stringify(initialize) });
  const bare = await post(key);
  t.is(bare.status, 403);
  t.is(bare.headers.get('x-altrace-reason'), 'ALT_MCP_RELAY_MISSING');
  // A relay opened by notes-bot: other-bot presenting its id is refused, notes-bot is served.
  const abort = new AbortController();
  const opened = await fetch(`${h.proxyUrl}/mcp/everything`, { headers: { authorization: `Bearer ${key}`, 'x-altrace-relay': 'open' }, signal: abort.signal });
  t.is(opened.status, 200);
  const reader = opened.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  const relayId = /"id":"([0-9a-f]{32})"/.exec(first)![1]!;
  const stolen = await post(otherKey, relayId);
  t.is(stolen.status, 403);
  t.is(stolen.headers.get('x-altrace-reason'), 'ALT_MCP_RELAY_MISSING');
  // An answer to a request nobody sent is not taken.
  const forged = await fetch(`${h.proxyUrl}/altrace/v1/mcp-relay/${relayId}/99`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"result":{}}' });
  t.is(forged.status, 404);
  abort.abort();
});

test.serial('killing the agent ends its relay: the wrap stops the server and the client sees the connection close', async (t) => {
  await wrapped('memory', [process.execPath, serverScript('server-memory')], async (client, transport) => {
    await client.listTools();
    const closed = new Promise<void>((resolve) => (transport.onclose = () => resolve()));
    const stderr: string[] = [];
    transport.stderr?.on('data', (d: Buffer) => stderr.push(d.toString()));
    const killed = await h.control('POST', '/kill', { scope: 'agent', target: 'notes-bot', reason: 'test' });
    t.is(killed.status, 201);
    try {
      await closed;
      t.regex(stderr.join(''), /ALT_KILLED_AGENT/);
    } finally {
      await h.control('DELETE', '/kill/agent/notes-bot');
    }
  });
});
