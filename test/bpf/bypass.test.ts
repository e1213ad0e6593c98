// The bypass table (issue 20): an attacker inside a governed pod (its own netns and cgroup, root
// in it, CAP_NET_RAW and all) tries every way past the proxy to a provider on a private bridge,
// with the agent in bpf mode, the packet backstop on the pods' host-side interfaces, and a
// second pod in strict mode. Each row ends "governed" (the proxy answered), "refused" (the
// kernel failed the call), "dropped" (nothing came back and nothing arrived) or "reached";
// only the documented relay row may reach, and strict mode refuses it. Every raw technique is
// first shown to work against a destination that is not an AI one, so a drop is the backstop's
// doing and not a broken attack.
import test from 'ava';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { TestDnsServer } from '../fixtures/dns-server.js';
import { patience } from '../helpers/patience.js';
import { runCli } from '../helpers/process.js';
import { RIG_ADMIN, startRigAgent, type RigAgent } from './agent-rig.js';
import { NetRig, type Link } from './netns.js';
import { SIM_PORT, startSimulator } from './node-rig.js';
import { Child, Cleanup, removeCgroupDir, TempCgroup } from './rig.js';
import { bpfSuite } from './suite.js';

const ATTACKER = new URL('../../../test/fixtures/attacker.py', import.meta.url).pathname;
const BPF_OBJECT = new URL('../../../bpf/.output/altrace.bpf.o', import.meta.url).pathname;
const OTHER_PORT = 9443;
const RELAY_PORT = 3128;
const PROVIDER_NAME = 'api.rig-provider.test';

type Outcome = 'governed' | 'refused' | 'dropped' | 'reached';
interface Attempt {
  /** How much the provider side had logged when the attempt began: its own evidence starts there. */
  mark: { http: number; udp: number };
  ok: boolean;
  reached: boolean;
  governed?: boolean;
  status?: number | null;
  errno?: string;
  detail: string;
}
interface Row {
  attempt: string;
  outcome: Outcome;
  expected: Outcome[];
  detail: string;
}

/** Where an attacking process runs: a network namespace, and a cgroup it joins first (or none). */
interface Place {
  netns: string | null;
  cgroupProcs: string | null;
}

const removeCgroup = (dir: string, root: string) => () => removeCgroupDir(dir, root);

/** argv for a process in a place: nsenter --net keeps /sys (and the cgroup files) visible, unlike ip netns exec. */
function inPlace(place: Place, argv: string[]): string[] {
  const net = place.netns ? ['nsenter', `--net=/run/netns/${place.netns}`] : [];
  if (!place.cgroupProcs) return [...net, ...argv];
  return ['sh', '-c', 'p=$1; shift; echo $$ > "$p" && exec "$@"', 'sh', place.cgroupProcs, ...net, ...argv];
}

async function run(place: Place, args: string[], mark: Attempt['mark'], timeoutS = 2): Promise<Attempt> {
  const [cmd, ...rest] = inPlace(place, ['python3', ATTACKER, ...args, '--timeout', String(timeoutS)]);
  const proc = spawn(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await once(proc, 'exit');
  const last = out.trim().split('\n').pop();
  if (!last) throw new Error(`attacker ${args[0]} printed nothing: ${err}`);
  return { ...(JSON.parse(last) as Omit<Attempt, 'mark'>), mark };
}

/** A long-running server in a namespace, its stderr kept (http.server logs each request there). */
async function serve(cleanup: Cleanup, netns: string, argv: string[], ready: RegExp): Promise<{ log: string[] }> {
  const proc: ChildProcess = spawn('nsenter', [`--net=/run/netns/${netns}`, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.add(async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGKILL');
    await once(proc, 'exit');
  });
  const log: string[] = [];
  createInterface({ input: proc.stderr! }).on('line', (l) => log.push(l));
  const lines = createInterface({ input: proc.stdout! });
  const seen = new Promise<void>((resolve, reject) => {
    lines.on('line', (l) => ready.test(l) && resolve());
    createInterface({ input: proc.stderr! }).on('line', (l) => ready.test(l) && resolve());
    proc.once('exit', (code) => reject(new Error(`${argv.join(' ')} exited (${code})`)));
  });
  await Promise.race([seen, sleep(patience(5000)).then(() => Promise.reject(new Error(`${argv.join(' ')} never became ready`)))]);
  return { log };
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());
  const rows: Row[] = [];
  let pod: Link;
  let spod: Link;
  let prov: Link;
  let elsewhere: Link;
  let extraAddress: string;
  let observedAddress: string;
  let v6: { nodeAddress: string; otherNodeAddress: string; address: string };
  let v6ControlPort: number;
  let v6Direct: string[];
  let cg: TempCgroup;
  let strictDir: string;
  let rig: RigAgent;
  let key: string;
  let podChild: Child;
  let strictChild: Child;
  let providerHttp: { log: string[] };
  let elsewhereHttp: { log: string[] };
  let providerUdpFile: string;
  let elsewhereUdpFile: string;
  let dns: TestDnsServer;
  const podPlace = (): Place => ({ netns: pod.netns, cgroupProcs: join(cg.leaf, 'cgroup.procs') });
  const strictPlace = (): Place => ({ netns: spod.netns, cgroupProcs: join(strictDir, 'cgroup.procs') });
  const status = async () => (await (await rig.control('/node')).json()) as { destinations: { net: string; source: string }[]; stats: Record<string, number>; capability_warnings: string[]; workloads: { id: string; agent: string | null; bypass_attempts: number }[] };
  const mark = () => ({ http: providerHttp.log.length, udp: readFileSync(providerUdpFile, 'utf8').length });
  const attack = (place: Place, args: string[]) => run(place, args, mark());
  const reachedProvider = (from: string, since: Attempt['mark']) =>
    providerHttp.log.slice(since.http).some((l) => l.startsWith(`${from} `)) || readFileSync(providerUdpFile, 'utf8').slice(since.udp).includes(`"from": "${from}:`);

  /** The outcome of an attempt, checked against what the provider side saw from where it came since it began. */
  function outcomeOf(a: Attempt, from: string): Outcome {
    if (a.governed) return 'governed';
    if (a.reached || reachedProvider(from, a.mark)) return 'reached';
    if (a.errno === 'EPERM') return 'refused';
    return 'dropped';
  }
  function record(t: { is: (a: unknown, b: unknown, m?: string) => void; true: (v: boolean, m?: string) => void }, attempt: string, outcome: Outcome, expected: Outcome[], detail: string): void {
    rows.push({ attempt, outcome, expected, detail });
    t.true(expected.includes(outcome), `${attempt}: ${outcome} (${detail}), expected ${expected.join(' or ')}`);
  }

  test.before(async () => {
    const net = NetRig.create(cleanup);
    pod = net.namespace('bpod', 1);
    prov = net.namespace('bprv', 2);
    elsewhere = net.namespace('bels', 3);
    spod = net.namespace('bspd', 4);
    extraAddress = net.addAddress(prov, 20);
    // An AI destination over IPv6: here the node's own side of the pod link, which the pod reaches without forwarding.
    v6 = net.ipv6(pod);
    v6Direct = [];
    const direct = createServer((req, res) => {
      v6Direct.push(`${req.socket.remoteAddress} ${req.method} ${req.url}`);
      res.writeHead(404).end('direct');
    });
    direct.listen(OTHER_PORT, v6.nodeAddress);
    await once(direct, 'listening');
    cleanup.add(() => new Promise((r) => direct.close(r)));
    const control = createServer((_req, res) => res.writeHead(404).end('control'));
    control.listen(0, v6.otherNodeAddress);
    await once(control, 'listening');
    v6ControlPort = (control.address() as { port: number }).port;
    cleanup.add(() => new Promise((r) => control.close(r)));
    observedAddress = net.addAddress(prov, 40);
    await startSimulator(prov, cleanup, '0.0.0.0');
    const site = mkdtempSync(join(tmpdir(), 'altrace-bypass-site-'));
    cleanup.add(() => rmSync(site, { recursive: true, force: true }));
    mkdirSync(join(site, 'v1'));
    writeFileSync(join(site, 'v1', 'models'), '{"data":[]}');
    providerUdpFile = join(site, 'provider-udp.jsonl');
    elsewhereUdpFile = join(site, 'elsewhere-udp.jsonl');
    writeFileSync(providerUdpFile, '');
    writeFileSync(elsewhereUdpFile, '');
    const httpServer = ['python3', '-u', '-m', 'http.server', String(OTHER_PORT), '--bind', '0.0.0.0', '--directory', site];
    providerHttp = await serve(cleanup, prov.netns, httpServer, /Serving HTTP/);
    elsewhereHttp = await serve(cleanup, elsewhere.netns, httpServer, /Serving HTTP/);
    await serve(cleanup, prov.netns, ['python3', ATTACKER, 'udp-listen', '--listen', '0.0.0.0:443', '--out', providerUdpFile], /ready/);
    await serve(cleanup, elsewhere.netns, ['python3', ATTACKER, 'udp-listen', '--listen', '0.0.0.0:443', '--out', elsewhereUdpFile], /ready/);
    await serve(cleanup, elsewhere.netns, ['python3', ATTACKER, 'relay', '--listen', `${elsewhere.address}:${RELAY_PORT}`], /ready/);
    // The pods' resolver tells them an address of the provider the node's own lookups never return.
    dns = await new TestDnsServer().start(pod.nodeAddress, 53);
    cleanup.add(() => dns.close());
    dns.records.set(PROVIDER_NAME, [{ address: observedAddress, ttl: 60 }]);

    cg = TempCgroup.create(cleanup);
    strictDir = join(cg.path, 'strict');
    mkdirSync(strictDir);
    cleanup.add(removeCgroup(strictDir, cg.root));
    const rangeStart = extraAddress.replace(/\.\d+$/, '.16');
    rig = await startRigAgent(cleanup, {
      cgroup: cg.path,
      pod,
      simUrl: `http://${prov.address}:${SIM_PORT}`,
      config: [
        // The provider's name (learned from pods' DNS answers) and a range it serves from (its published range, here).
        `  destinations: ["${PROVIDER_NAME}", "${rangeStart}/28", "${v6.nodeAddress}"]`,
        `  backstop_interfaces: [${pod.nodeInterface}, ${spod.nodeInterface}]`,
        // The rig's provider is on private addresses; a real provider's are public.
        '  dns_observe_private: true',
        '  strict:',
        '    cgroups: [strict]',
        `    interfaces: [${spod.nodeInterface}]`,
        `    allow: ["${elsewhere.address}:${OTHER_PORT}", "${spod.nodeAddress}:53"]`,
      ],
    });
    const res = await rig.control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'bypass-agent', team: 'red' }) });
    key = ((await res.json()) as { key: string }).key;
    podChild = await Child.spawn(cleanup, { cgroupProcs: join(cg.leaf, 'cgroup.procs'), netns: pod.netns });
    strictChild = await Child.spawn(cleanup, { cgroupProcs: join(strictDir, 'cgroup.procs'), netns: spod.netns });
  });

  // Printed whole, passing or not: the table is the finding.
  test.after.always(() => {
    if (rows.length === 0) return;
    const width = Math.max(...rows.map((r) => r.attempt.length));
    console.log(`\nbypass table (${rows.length} rows)\n${rows.map((r) => `${r.attempt.padEnd(width)}  ${r.outcome.padEnd(8)}  ${r.detail}`).join('\n')}`);
  });

  test.serial('what goes through connect() and sendmsg() is governed or refused, whatever the address, port, family or protocol', async (t) => {
    const auth = ['--header', `Authorization: Bearer ${key}`];
    const chat = await podChild.call({ op: 'chat', baseURL: `http://${prov.address}:${SIM_PORT}/v1`, apiKey: key });
    record(t, 'TCP: the SDK to the provider address the node resolved', chat.ok ? 'governed' : 'reached', ['governed'], chat.ok ? 'chat completed through the proxy' : `${chat.code} ${chat.message ?? ''}`);
    const extra = await attack(podPlace(), ['tcp-http', '--dst', extraAddress, '--port', String(SIM_PORT), ...auth]);
    record(t, 'TCP: a provider address no DNS answer held (its range)', outcomeOf(extra, pod.address), ['governed'], extra.detail);

    const sent = Date.now();
    const resolved = await podChild.call({ op: 'resolve', server: `${pod.nodeAddress}:53`, name: PROVIDER_NAME });
    t.deepEqual(resolved.addresses, [observedAddress], 'the pod was told an address the node never resolved');
    let learnedMs = -1;
    for (const deadline = Date.now() + patience(2000); Date.now() < deadline; await sleep(1)) {
      if ((await status()).destinations.some((d) => d.net === observedAddress && d.source === 'observed')) {
        learnedMs = Date.now() - sent;
        break;
      }
    }
    if (learnedMs < 0) t.log(rig.logs.slice(-12).join('\n'));
    t.true(learnedMs >= 0, `the address from the pod’s DNS answer joined the destination set (DNS answers seen by the kernel: ${(await status()).stats.dnsSeen})`);
    t.log(`the pod's DNS answer was in the destination set ${learnedMs} ms after the pod asked (lookup included)`);
    const observed = await attack(podPlace(), ['tcp-http', '--dst', observedAddress, '--port', String(SIM_PORT), ...auth]);
    record(t, 'TCP: the address a pod’s own DNS answer gave', outcomeOf(observed, pod.address), ['governed'], `${observed.detail}; in the set ${learnedMs} ms after the lookup began`);

    // The pod reaches the node over IPv6 (an address outside the AI set): the row below is the programs' doing.
    const reach = await podChild.call({ op: 'connect', host: v6.otherNodeAddress, port: v6ControlPort });
    t.true(reach.ok, `the pod reaches the node over IPv6 (${reach.code})`);
    const overV6 = await podChild.call({ op: 'chat', baseURL: `http://[${v6.nodeAddress}]:${OTHER_PORT}/v1`, apiKey: key });
    record(t, 'TCP over IPv6: the SDK to a provider’s IPv6 address', overV6.ok ? 'governed' : v6Direct.length > 0 ? 'reached' : 'dropped', ['governed'], overV6.ok ? 'chat completed through the proxy' : `${overV6.code} ${overV6.message ?? ''}`);
    const udp6 = await podChild.call({ op: 'udp', host: v6.nodeAddress, port: 443 });
    record(t, 'UDP over IPv6 to a provider’s IPv6 address', udp6.ok ? 'reached' : udp6.code === 'EPERM' ? 'refused' : 'dropped', ['refused'], udp6.code ?? 'sent');
    // A process of the pod's namespace that is not in its cgroup: no socket program sees it, the backstop does.
    const outsider = spawn('nsenter', [`--net=/run/netns/${pod.netns}`, process.execPath, '-e', `fetch('http://[${v6.nodeAddress}]:${OTHER_PORT}/', { signal: AbortSignal.timeout(2000) }).then((r) => console.log(r.status), (e) => console.log(e.name)).finally(() => process.exit(0))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    let seen = '';
    outsider.stdout.on('data', (d: Buffer) => (seen += d.toString()));
    await once(outsider, 'exit');
    record(t, 'IPv6: a process in the pod’s namespace but outside its cgroup', /^\d+$/.test(seen.trim()) || v6Direct.length > 0 ? 'reached' : 'dropped', ['dropped'], seen.trim());
    t.deepEqual(v6Direct, [], 'nothing reached the IPv6 address directly');

    const port = await attack(podPlace(), ['tcp-http', '--dst', prov.address, '--port', String(OTHER_PORT), ...auth]);
    record(t, `TCP: another port of the provider address (${OTHER_PORT})`, outcomeOf(port, pod.address), ['governed'], port.detail);
    for (const [name, flags] of [['v4-mapped (an AF_INET6 socket)', ['--v4mapped']], ['MPTCP', ['--mptcp']], ['TCP Fast Open', ['--tfo']], ['a forked process', ['--fork']]] as const) {
      const a = await attack(podPlace(), ['tcp-http', '--dst', prov.address, '--port', String(SIM_PORT), ...flags, ...auth]);
      record(t, `TCP: ${name}`, outcomeOf(a, pod.address), ['governed'], a.detail);
    }
    const sub = join(cg.leaf, 'sub');
    mkdirSync(sub);
    cleanup.add(removeCgroup(sub, cg.root));
    const nested = await attack({ netns: pod.netns, cgroupProcs: join(sub, 'cgroup.procs') }, ['tcp-http', '--dst', prov.address, '--port', String(SIM_PORT), ...auth]);
    record(t, 'TCP: from a new cgroup below the pod’s', outcomeOf(nested, pod.address), ['governed'], nested.detail);
    const host = await attack({ netns: null, cgroupProcs: join(cg.leaf, 'cgroup.procs') }, ['tcp-http', '--dst', prov.address, '--port', String(SIM_PORT), ...auth]);
    record(t, 'TCP: a governed process in the node’s network namespace', outcomeOf(host, prov.nodeAddress), ['governed'], host.detail);

    for (const [name, cmd] of [
      ['UDP 443 (QUIC), unconnected', { op: 'udp', host: prov.address, port: 443 }],
      ['UDP 443 (QUIC), connected', { op: 'udp', host: prov.address, port: 443, connected: true }],
      [`UDP to another port (${SIM_PORT})`, { op: 'udp', host: prov.address, port: SIM_PORT }],
      ['UDP to the range address', { op: 'udp', host: extraAddress, port: 53, connected: true }],
    ] as const) {
      const r = await podChild.call(cmd);
      record(t, name, r.ok ? 'reached' : r.code === 'EPERM' ? 'refused' : 'dropped', ['refused'], r.code ?? 'sent');
    }
    t.false(providerHttp.log.some((l) => l.startsWith(`${pod.address} `)), 'the provider never saw the pod');
  });

  test.serial('what bypasses the socket hooks is dropped by the packet backstop, and each technique works where no AI destination is', async (t) => {
    const before = (await status()).stats;
    const frame = ['--iface', pod.nsInterface, '--gw-mac', pod.nodeMac, '--src', pod.address];
    const techniques: [string, string[], string[]][] = [
      ['raw IP socket: UDP 443 by hand', ['raw-udp', '--port', '443'], []],
      ['raw IP socket: a user-space TCP stack, HTTP', ['raw-tcp-http', '--port', String(OTHER_PORT), '--suppress-rst'], []],
      ['AF_PACKET: UDP 443 by hand', ['packet-udp', ...frame, '--port', '443'], []],
      ['AF_PACKET: a user-space TCP stack, HTTP', ['packet-tcp-http', ...frame, '--port', String(OTHER_PORT), '--suppress-rst'], []],
    ];
    for (const [name, args] of techniques) {
      const control = await attack(podPlace(), [...args, '--dst', elsewhere.address]);
      const arrived = args[0]!.endsWith('udp') ? readFileSync(elsewhereUdpFile, 'utf8').includes(pod.address) : control.status === 200;
      t.true(arrived, `${name} works where no AI destination is (${control.detail})`);
      const a = await attack(podPlace(), [...args, '--dst', prov.address]);
      record(t, name, outcomeOf(a, pod.address), ['dropped', 'refused'], a.detail);
    }

    // A socket made by a process outside the governed cgroup, handed to a pod process over SCM_RIGHTS.
    const sockets = mkdtempSync(join(tmpdir(), 'altrace-bypass-fd-'));
    cleanup.add(() => rmSync(sockets, { recursive: true, force: true }));
    for (const [target, label] of [[elsewhere.address, 'control'], [prov.address, 'attack']] as const) {
      const path = join(sockets, `${label}.sock`);
      const sender = spawn('nsenter', [`--net=/run/netns/${pod.netns}`, 'python3', ATTACKER, 'fd-send', '--unix', path, '--wait', '10'], { stdio: ['ignore', 'pipe', 'inherit'] });
      cleanup.add(() => void sender.kill('SIGKILL'));
      await new Promise<void>((resolve) => createInterface({ input: sender.stdout! }).on('line', (l) => l.includes('ready') && resolve()));
      const a = await attack(podPlace(), ['fd-recv', '--unix', path, '--dst', target, '--port', String(OTHER_PORT)]);
      if (label === 'control') t.is(a.status, 200, `a passed socket works where no AI destination is (${a.detail})`);
      else record(t, 'a socket passed in over SCM_RIGHTS', outcomeOf(a, pod.address), ['dropped'], a.detail);
    }
    // A socket made before its process joined the governed cgroup.
    const outside: Place = { netns: pod.netns, cgroupProcs: null };
    const outsideControl = await attack(outside, ['created-outside', '--cgroup-procs', join(cg.leaf, 'cgroup.procs'), '--dst', elsewhere.address, '--port', String(OTHER_PORT)]);
    t.is(outsideControl.status, 200, outsideControl.detail);
    const outsideAttack = await attack(outside, ['created-outside', '--cgroup-procs', join(cg.leaf, 'cgroup.procs'), '--dst', prov.address, '--port', String(OTHER_PORT)]);
    record(t, 'a socket created outside the governed cgroup, used inside it', outcomeOf(outsideAttack, pod.address), ['dropped'], outsideAttack.detail);

    // Without strict mode a relay the pod may reach carries the call: documented, and what strict mode is for.
    const relayed = await attack(podPlace(), ['connect-relay', '--relay', `${elsewhere.address}:${RELAY_PORT}`, '--dst', prov.address, '--port', String(OTHER_PORT)]);
    record(t, 'HTTP CONNECT through an ungoverned relay (not strict: docs/bypass.md)', outcomeOf(relayed, elsewhere.address), ['reached'], relayed.detail);

    t.false(providerHttp.log.some((l) => l.startsWith(`${pod.address} `)), 'the provider never saw the pod');
    t.false(readFileSync(providerUdpFile, 'utf8').includes(pod.address), 'no datagram from the pod reached the provider');

    // The CNI's own tc programs on the pod's link still run after the backstop: it hands packets
    // on (tcx "next"), it does not end the chain. A classic tc BPF filter stands in for them; the
    // kernel's run counter (kernel.bpf_stats_enabled, restored after) says whether it ran.
    const stats = readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim();
    writeFileSync('/proc/sys/kernel/bpf_stats_enabled', '1');
    cleanup.add(() => writeFileSync('/proc/sys/kernel/bpf_stats_enabled', stats));
    execFileSync('tc', ['qdisc', 'add', 'dev', pod.nodeInterface, 'clsact']);
    cleanup.add(() => void spawnSync('tc', ['qdisc', 'del', 'dev', pod.nodeInterface, 'clsact']));
    execFileSync('tc', ['filter', 'add', 'dev', pod.nodeInterface, 'ingress', 'bpf', 'da', 'obj', BPF_OBJECT, 'sec', 'tc']);
    const filters = JSON.parse(execFileSync('tc', ['-j', 'filter', 'show', 'dev', pod.nodeInterface, 'ingress'], { encoding: 'utf8' })) as { options?: { prog?: { id: number } } }[];
    const cniProg = filters.find((f) => f.options?.prog)!.options!.prog!.id;
    const runs = () => (JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show', 'id', String(cniProg)], { encoding: 'utf8' })) as { run_cnt?: number }).run_cnt ?? 0;
    const cniBefore = runs();
    t.is((await attack(podPlace(), ['tcp-http', '--dst', elsewhere.address, '--port', String(OTHER_PORT)])).status, 200);
    t.true(runs() > cniBefore, `the tc program after the backstop ran on the pod's packets (${runs() - cniBefore} runs)`);
    const after = await status();
    const dropped = after.stats.bypassDropped! - before.bypassDropped!;
    t.true(dropped >= 4, `the backstops counted their drops (${dropped})`);
    t.true(after.workloads.some((w) => w.agent === 'bypass-agent' && w.bypass_attempts > 0), 'the attempts are the pod’s agent’s');
    const audit = (await (await rig.control('/audit?kind=control&limit=200')).json()) as { records: { control?: { action: string; target?: string } }[] };
    const reports = audit.records.filter((r) => r.control?.action.startsWith('BYPASS bypass_dropped'));
    t.true(reports.some((r) => r.control!.target === 'bypass-agent' && r.control!.action.includes(prov.address)), 'audited as a bypass attempt by the pod’s agent');
    const metrics = await (await fetch(`${rig.agent.controlUrl}/metrics`, { headers: { authorization: `Bearer ${RIG_ADMIN}` } })).text();
    t.regex(metrics, /altrace_bypass_attempts_total\{verdict="bypass_dropped",agent="bypass-agent"\} [1-9]/);
    t.true(after.capability_warnings.length > 0, 'the pod’s processes hold CAP_NET_RAW: bpf status says so');
    t.true(audit.records.some((r) => r.control?.action.startsWith('WARN capabilities') && r.control.action.includes('CAP_NET_RAW')), 'and the audit log warns');
  });

  test.serial('strict mode: a relay is refused, raw packets to undeclared places dropped; the proxy and declared places still work', async (t) => {
    const chat = await strictChild.call({ op: 'chat', baseURL: `http://${prov.address}:${SIM_PORT}/v1`, apiKey: key });
    record(t, 'strict: the SDK to the provider', chat.ok ? 'governed' : 'dropped', ['governed'], chat.ok ? 'chat completed through the proxy' : `${chat.code} ${chat.message ?? ''}`);
    const declared = await attack(strictPlace(), ['tcp-http', '--dst', elsewhere.address, '--port', String(OTHER_PORT)]);
    t.is(declared.status, 200, `a declared destination is reachable (${declared.detail})`);
    const relayed = await attack(strictPlace(), ['connect-relay', '--relay', `${elsewhere.address}:${RELAY_PORT}`, '--dst', prov.address, '--port', String(OTHER_PORT)]);
    record(t, 'strict: HTTP CONNECT through a relay', outcomeOf(relayed, elsewhere.address), ['refused'], relayed.detail);
    const udp = await strictChild.call({ op: 'udp', host: elsewhere.address, port: 443 });
    record(t, 'strict: UDP to an undeclared place', udp.ok ? 'reached' : udp.code === 'EPERM' ? 'refused' : 'dropped', ['refused'], udp.code ?? 'sent');
    const frame = ['--iface', spod.nsInterface, '--gw-mac', spod.nodeMac, '--src', spod.address];
    for (const [name, args] of [
      ['strict: raw IP TCP stack to the relay', ['raw-tcp-http', '--suppress-rst']],
      ['strict: AF_PACKET TCP stack to the relay', ['packet-tcp-http', ...frame, '--suppress-rst']],
    ] as const) {
      const a = await attack(strictPlace(), [...args, '--dst', elsewhere.address, '--port', String(RELAY_PORT)]);
      record(t, name, outcomeOf(a, spod.address), ['dropped', 'refused'], a.detail);
    }
    const s = await status();
    t.true(s.stats.strictRefused! >= 2 && s.stats.strictDropped! >= 1, `strict refusals ${s.stats.strictRefused}, drops ${s.stats.strictDropped}`);
    const text = (await runCli(['bpf', 'status', '--url', rig.agent.controlUrl, '--token', RIG_ADMIN])).stdout;
    t.regex(text, new RegExp(`backstop +.*${spod.nodeInterface}\\(strict\\)`));
    t.regex(text, /WARNING: \d+ governed workload\(s\) hold CAP_NET_RAW/);
  });
});
