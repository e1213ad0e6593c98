// Egress per MCP server, enforced in the kernel: an agent in bpf mode governs a temporary cgroup,
// a stdio MCP server is started by `altrace mcp wrap` (driven by the MCP SDK's stdio client), and
// the registry's `egress` for it decides where the server — and what it starts — may connect.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify as stringifyYaml } from 'yaml';
import { shippedPolicy } from '../helpers/policy.js';
import { ROOT, spawnAgent, type AgentProcess } from '../helpers/process.js';
import { Cleanup, eventually, listen, removeCgroupDir, TempCgroup, type LocalServer } from './rig.js';
import { bpfSuite } from './suite.js';

const BIN = join(ROOT, 'bin/altrace.js');
const PROBE = new URL('../fixtures/mcp-stdio-probe.js', import.meta.url).pathname;
const ADMIN = 'admin-token-for-the-egress-rig-0001';
const FORBIDDEN_HOST = '127.0.0.6';

/** Polls an async probe until it gives a value (the rig's `eventually` takes synchronous ones). */
async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 50))) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
  }
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  let cg: TempCgroup;
  let agent: AgentProcess;
  let allowed: LocalServer;
  let forbidden: LocalServer;
  let key: string;
  let dir: string;
  const logs: string[] = [];
  const control = (path: string, init: RequestInit = {}) => fetch(`${agent.controlUrl}/api/v1${path}`, { ...init, headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' } });

  const writePolicy = (servers: Record<string, object>) => {
    const policy = shippedPolicy();
    policy.destinations.upstreams.push('mcp:probe', 'mcp:loose');
    policy.mcp = { servers };
    writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  };
  const probeEgress = (extra: string[] = []) => ({ unapproved: 'flag', egress: [`127.0.0.1:${allowed.port}`, ...extra] });

  test.before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'altrace-egress-rig-'));
    cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
    cg = TempCgroup.create(cleanup);
    // After the agent has stopped (cleanup runs newest first): it kills its servers' cgroups and leaves them for its next start.
    cleanup.add(async () => {
      const mcp = join(cg.path, 'altrace-mcp');
      if (!existsSync(mcp)) return;
      for (const d of readdirSync(mcp, { withFileTypes: true })) if (d.isDirectory()) await removeCgroupDir(join(mcp, d.name), cg.root);
      await removeCgroupDir(mcp, cg.root);
    });
    [allowed, forbidden] = [await listen('127.0.0.1', cleanup), await listen(FORBIDDEN_HOST, cleanup)];
    writePolicy({ probe: probeEgress(), loose: { unapproved: 'flag' } });
    writeFileSync(
      join(dir, 'config.yaml'),
      stringifyYaml({
        node: { enforcement: 'bpf', cgroup: cg.path, transparent_host: '127.0.0.1', transparent_port: 0, allow_loopback_proxy: true },
        mcp: { servers: [{ name: 'probe', transport: 'stdio' }, { name: 'loose', transport: 'stdio' }] },
      }),
    );
    agent = await spawnAgent({ ALTRACE_CONFIG: join(dir, 'config.yaml'), ALTRACE_POLICY: join(dir, 'policy.yaml'), ALTRACE_STATE_DIR: join(dir, 'state'), ALTRACE_ADMIN_TOKEN: ADMIN, ALTRACE_LOG_LEVEL: 'info' }, logs);
    cleanup.add(() => agent.stop());
    const created = (await (await control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'notes-bot', team: 'support' }) })).json()) as { key: string };
    key = created.key;
  });
  test.afterEach.always((t) => {
    if (!t.passed) t.log(logs.slice(-40).join('\n'));
  });
  test.after.always(() => cleanup.run());

  /** The MCP SDK's stdio client, its server (the probe) started through the wrap. */
  async function wrapped<T>(server: string, use: (probe: (host: string, port: number, from?: 'self' | 'child') => Promise<string>, client: Client, transport: StdioClientTransport) => Promise<T>): Promise<T> {
    const client = new Client({ name: 'notes-bot', version: '1.0.0' });
    const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'mcp', 'wrap', '--server', server, '--proxy', agent.proxyUrl, '--', process.execPath, PROBE], env: { PATH: process.env.PATH ?? '', ALTRACE_KEY: key }, stderr: 'pipe' });
    await client.connect(transport);
    const probe = async (host: string, port: number, from: 'self' | 'child' = 'self') => {
      const r = (await client.callTool({ name: 'probe_connect', arguments: { host, port, from } })) as { content: { text: string }[] };
      return r.content[0]!.text.split(' ').at(-1)!;
    };
    try {
      return await use(probe, client, transport);
    } finally {
      await client.close();
    }
  }

  const mcpCgroups = () => (existsSync(join(cg.path, 'altrace-mcp')) ? readdirSync(join(cg.path, 'altrace-mcp'), { withFileTypes: true }).filter((d) => d.isDirectory()) : []);

  test.serial('a server declaring egress starts in its own cgroup and reaches only what it declares, and so does every process it starts', async (t) => {
    await wrapped('probe', async (probe) => {
      t.is(await probe('127.0.0.1', allowed.port), 'connected', 'the declared address and port');
      t.is(await probe('127.0.0.1', forbidden.port), 'EPERM', 'the declared address on another port');
      t.is(await probe(FORBIDDEN_HOST, forbidden.port), 'EPERM', 'an undeclared address');
      t.is(await probe(FORBIDDEN_HOST, forbidden.port, 'child'), 'EPERM', 'a process the server starts is confined too');
      t.is(await probe('127.0.0.1', allowed.port, 'child'), 'connected');
      t.is(forbidden.accepted.length, 0, 'nothing reached the undeclared server');
      t.is(mcpCgroups().length, 1, 'one cgroup for the one relay');
      const status = (await (await control('/node')).json()) as { mcp_egress: { servers: { server: string; relays: number; nets: string[] }[] } };
      t.deepEqual(status.mcp_egress.servers, [{ server: 'probe', set: 1, relays: 1, nets: ['127.0.0.1'] }] as never);
    });
    // The relay closed with the client: the server's cgroup goes, and its confinement with it.
    await eventually(() => (mcpCgroups().length === 0 ? true : undefined), 5000);
    await until(async () => (((await (await control('/node')).json()) as { mcp_egress: { servers: unknown[] } }).mcp_egress.servers.length === 0 ? true : undefined), 5000, 'the set is closed');
    t.pass();
  });

  test.serial('each refusal is in the audit log with its reason code, and counted by server', async (t) => {
    await control('/audit/checkpoint');
    const records = await until(async () => {
      const { records } = (await (await control('/audit?limit=1000')).json()) as { records: { control?: { action: string; target: string; error: string | null; status: number } }[] };
      const mine = records.filter((r) => r.control?.error === 'ALT_MCP_EGRESS_REFUSED');
      return mine.length >= 2 ? mine : undefined;
    }, 5000, 'refusals audited');
    t.true(records.every((r) => r.control!.target === 'mcp:probe' && r.control!.status === 403));
    t.true(records.some((r) => r.control!.action.includes(`${FORBIDDEN_HOST}:${forbidden.port}`)), records.map((r) => r.control!.action).join(' | '));
    const metrics = await (await fetch(`${agent.controlUrl}/metrics`)).text();
    const count = Number(/altrace_mcp_egress_refused_total\{server="probe"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    t.true(count >= 3, `refusals counted: ${count}`);
  });

  test.serial('a policy change follows into a running server’s set; a server that comes to declare egress while unconfined is stopped', async (t) => {
    await wrapped('probe', async (probe) => {
      t.is(await probe(FORBIDDEN_HOST, forbidden.port), 'EPERM');
      writePolicy({ probe: probeEgress([`${FORBIDDEN_HOST}:${forbidden.port}`]), loose: { unapproved: 'flag' } });
      await until(async () => ((await probe(FORBIDDEN_HOST, forbidden.port)) === 'connected' ? true : undefined), 10_000, 'the added destination connects');
      t.pass('the added destination is reachable without a restart');
    });
    await wrapped('loose', async (probe, _client, transport) => {
      t.is(await probe(FORBIDDEN_HOST, forbidden.port), 'connected', 'no egress declared: not confined');
      const closed = new Promise<void>((resolve) => (transport.onclose = resolve));
      writePolicy({ probe: probeEgress(), loose: { unapproved: 'flag', egress: [] } });
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the unconfined server was not stopped within 5 s')), 5_000))]);
      t.pass('its relay closed, and the wrap with it');
    });
    await wrapped('loose', async (probe) => {
      t.is(await probe('127.0.0.1', allowed.port), 'EPERM', 'started again, it runs confined: [] allows nothing');
    });
  });
});
