// The node agent's egress sets for confined MCP servers, against the kernel's maps: host names
// resolved (by a DNS server on loopback) and followed, the nameservers admitted for them, ports
// merged per address, a relay's cgroup made and removed, and what an earlier agent left cleared.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import test from 'ava';
import { BpfEnforcer, cgroupId } from '../../agent/src/bpf/index.js';
import { McpEgress, MCP_CGROUP_DIR } from '../../agent/src/node/mcp-egress.js';
import { parseEgress, type EgressEntry } from '../../proxy/src/policy/mcp-egress.js';
import { TestDnsServer } from '../fixtures/dns-server.js';
import { Cleanup, eventually, removeCgroupDir, TempCgroup } from './rig.js';
import { bpfSuite } from './suite.js';

const silent = { info() {}, warn() {}, error() {}, debug() {} } as never;
const entries = (texts: string[]): EgressEntry[] => {
  const parsed = parseEgress(texts);
  if (!('entries' in parsed)) throw new Error(parsed.message);
  return parsed.entries;
};

bpfSuite(() => {
  const cleanup = new Cleanup();
  let bpf: BpfEnforcer;
  let cg: TempCgroup;
  let dns: TestDnsServer;
  let egress: McpEgress;

  test.before(async () => {
    bpf = BpfEnforcer.load();
    cleanup.add(() => bpf.close());
    cg = TempCgroup.create(cleanup);
    cleanup.add(async () => {
      const root = join(cg.path, MCP_CGROUP_DIR);
      if (!existsSync(root)) return;
      for (const d of readdirSync(root, { withFileTypes: true })) if (d.isDirectory()) await removeCgroupDir(join(root, d.name), cg.root);
      await removeCgroupDir(root, cg.root);
    });
    dns = await new TestDnsServer().start();
    cleanup.add(() => dns.close());
    dns.records.set('tools.example.test', [{ address: '127.0.0.7', ttl: 1 }]);
    const resolver = new Resolver({ timeout: 500, tries: 1 });
    resolver.setServers([dns.server]);
    egress = new McpEgress({ bpf, governed: cg.path, logger: silent, dns: resolver, minTtlS: 1, maxTtlS: 1, nameservers: ['127.0.0.53'] });
  });
  test.after.always(() => cleanup.run());

  const nets = (set: number) => bpf.egressNets().filter((n) => n.set === set).map((n) => n.net).sort();

  test.serial('an earlier agent’s confined servers are killed and their cgroups and kernel entries cleared at start', async (t) => {
    const leftover = join(cg.path, MCP_CGROUP_DIR, 'old-server-0123456789abcdef');
    mkdirSync(leftover, { recursive: true });
    const sleeper = spawn('/bin/sh', ['-c', `printf 0 > "${leftover}/cgroup.procs" && exec sleep 600`], { stdio: 'ignore' });
    cleanup.add(() => void sleeper.kill('SIGKILL'));
    const exited = once(sleeper, 'exit');
    await eventually(() => (populated(leftover) ? true : undefined));
    bpf.confine(cgroupId(leftover), 9);
    bpf.allowEgress(9, '192.0.2.0/24');
    await egress.start();
    await exited;
    t.false(existsSync(leftover), 'its cgroup is gone');
    t.deepEqual(bpf.confinedCgroups(), []);
    t.deepEqual(bpf.egressNets(), []);
  });

  test.serial('a relay’s cgroup is confined to its server’s set: host names resolved, nameservers on port 53, ports merged; released, all of it goes', async (t) => {
    const dir = await egress.confine('files', 'aaaaaaaaaaaaaaaa1111', entries(['tools.example.test:443', '127.0.0.7:8443', '10.0.0.0/8']));
    t.true(dir.startsWith(join(cg.path, MCP_CGROUP_DIR, 'files-')));
    const set = bpf.confinedCgroups().find((c) => c.cgroupId === cgroupId(dir))!.set;
    t.deepEqual(nets(set), ['10.0.0.0/8', '127.0.0.53', '127.0.0.7'], 'the resolved address, the CIDR and the nameserver');
    const ports = Object.fromEntries(bpf.egressNets().map((n) => [n.net, n.ports]));
    t.deepEqual(ports, { '10.0.0.0/8': [], '127.0.0.53': [53], '127.0.0.7': [443, 8443] }, 'the name’s port and the address’s own, merged; a CIDR without ports admits any');
    t.deepEqual(egress.status().servers, [{ server: 'files', set, relays: 1, nets: ['10.0.0.0/8', '127.0.0.53', '127.0.0.7'] }]);
    // A second relay of the same server shares its set.
    const second = await egress.confine('files', 'bbbbbbbbbbbbbbbb2222', entries(['tools.example.test:443', '127.0.0.7:8443', '10.0.0.0/8']));
    t.is(bpf.confinedCgroups().find((c) => c.cgroupId === cgroupId(second))!.set, set);
    // The name moves: its new address joins the set once its TTL has run out.
    dns.records.set('tools.example.test', [{ address: '127.0.0.8', ttl: 1 }]);
    await eventually(() => (nets(set).includes('127.0.0.8') ? true : undefined), 5000);
    t.pass('the new address is in the set');
    // The policy narrows the set: what it no longer names goes at once.
    await egress.update('files', entries(['10.0.0.0/8']));
    t.deepEqual(nets(set), ['10.0.0.0/8']);
    await egress.release('aaaaaaaaaaaaaaaa1111');
    t.false(existsSync(dir));
    t.deepEqual(nets(set), ['10.0.0.0/8'], 'the other relay still holds the set');
    await egress.release('bbbbbbbbbbbbbbbb2222');
    t.deepEqual(bpf.egressNets(), []);
    t.deepEqual(bpf.confinedCgroups(), []);
    t.deepEqual(egress.status().servers, []);
  });

  test.serial('a release kills what the server left running in its cgroup before the cgroup goes', async (t) => {
    const dir = await egress.confine('notes', 'cccccccccccccccc3333', entries([]));
    const orphan = spawn('/bin/sh', ['-c', `printf 0 > "${dir}/cgroup.procs" && exec sleep 600`], { stdio: 'ignore' });
    const exited = once(orphan, 'exit');
    await eventually(() => (populated(dir) ? true : undefined));
    await egress.release('cccccccccccccccc3333');
    await exited;
    t.false(existsSync(dir));
    t.is(orphan.signalCode, 'SIGKILL');
  });
});

/** The cgroup has a process in it. */
function populated(dir: string): boolean {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').trim() !== '';
  } catch {
    return false;
  }
}
