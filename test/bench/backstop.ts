// `npm run bench`, packet backstop part (root): what the backstop costs per packet, by the
// kernel's own timing of each program on each kind of packet (BPF_PROG_TEST_RUN), and what it
// costs a pod's governed calls through the proxy: requests/s from a pod's network namespace
// with the backstop on its host-side interface and without, in alternating rounds of one run.
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BpfEnforcer } from '../../agent/src/bpf/index.js';

import { NetRig } from '../bpf/netns.js';
import { SIM_PORT, startRigAgent, startSimulator } from '../bpf/agent-rig.js';
import { Cleanup, SKIP_REASON, TempCgroup } from '../bpf/rig.js';
import { f } from './common.js';

const REPEAT = 2_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const LOAD = new URL('./netns-load.js', import.meta.url).pathname;

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i < b.length; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  return ~sum & 0xffff;
}

/** Ethernet + IPv4 + the first bytes of TCP (SYN) or UDP, to dst:port. */
function frame(dst: string, port: number, proto: 'tcp' | 'udp'): Buffer {
  const l4 = Buffer.alloc(proto === 'tcp' ? 20 : 8);
  l4.writeUInt16BE(40000, 0);
  l4.writeUInt16BE(port, 2);
  if (proto === 'tcp') {
    l4[12] = 5 << 4;
    l4[13] = 0x02;
  } else l4.writeUInt16BE(8, 4);
  const ip = Buffer.alloc(20);
  ip[0] = 0x45;
  ip.writeUInt16BE(20 + l4.length, 2);
  ip[8] = 64;
  ip[9] = proto === 'tcp' ? 6 : 17;
  Buffer.from([10, 0, 0, 2]).copy(ip, 12);
  Buffer.from(dst.split('.').map(Number)).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const eth = Buffer.alloc(14);
  eth.writeUInt16BE(0x0800, 12);
  return Buffer.concat([eth, ip, l4]);
}

function perPacket(cleanup: Cleanup): void {
  const dummy = `altbnch${process.pid % 10000}`;
  execFileSync('ip', ['link', 'add', dummy, 'type', 'veth', 'peer', 'name', `${dummy}p`]);
  cleanup.add(() => execFileSync('ip', ['link', 'delete', dummy]));
  const ifindex = Number(readFileSync(`/sys/class/net/${dummy}/ifindex`, 'utf8'));
  const bpf = BpfEnforcer.load();
  cleanup.add(() => bpf.close());
  bpf.addDestination('203.0.113.0/24');
  for (let i = 0; i < 200; i++) bpf.addDestination(`198.18.${i}.0/24`); // a set the size of a busy node's
  bpf.setProxyAddress({ address: '10.0.0.1', port: 15001 });
  bpf.allow('192.0.2.53', [53]);
  const cases: [string, string, Buffer, boolean][] = [
    ['backstop, a SYN elsewhere (passes)', 'alt_backstop', frame('198.51.100.7', 443, 'tcp'), false],
    ['backstop, a SYN to an AI address (dropped)', 'alt_backstop', frame('203.0.113.7', 443, 'tcp'), false],
    ['backstop, strict, a SYN to the proxy (passes)', 'alt_backstop', frame('10.0.0.1', 15001, 'tcp'), true],
    ['backstop, strict, UDP to a declared place (passes)', 'alt_backstop', frame('192.0.2.53', 53, 'udp'), true],
    ['backstop, strict, a SYN undeclared (dropped)', 'alt_backstop', frame('198.51.100.7', 443, 'tcp'), true],
    ['cgroup egress, a packet elsewhere (passes)', 'alt_skb_egress', frame('198.51.100.7', 443, 'tcp'), false],
  ];
  console.log(`cost per packet (BPF_PROG_TEST_RUN, ${REPEAT.toLocaleString('en')} runs each, ${bpf.destinationNets().length} nets in the destination set):`);
  for (const [name, program, packet, strict] of cases) {
    bpf.watchInterface(ifindex, { strict });
    const r = bpf.testRun(program, packet, REPEAT, ifindex);
    console.log(`  ${name.padEnd(52)} ${f(r.durationNs, 0)} ns  (verdict ${r.retval})`);
  }
}

async function throughput(cleanup: Cleanup): Promise<void> {
  const net = NetRig.create(cleanup);
  const pod = net.namespace('lpod', 1);
  const prov = net.namespace('lprv', 2);
  const sim = await startSimulator(prov, cleanup);
  const cg = TempCgroup.create(cleanup);
  const inPod = async (url: string, key: string): Promise<{ rps: number; p50: number; p99: number; errors: number }> => {
    const child = spawn('sh', ['-c', 'p=$1; shift; echo $$ > "$p" && exec "$@"', 'sh', join(cg.leaf, 'cgroup.procs'), 'nsenter', `--net=/run/netns/${pod.netns}`, process.execPath, LOAD, url, key, String(SECONDS), '16'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await once(child, 'exit');
    return JSON.parse(out.trim().split('\n').pop()!);
  };
  const rounds: Record<'off' | 'on', { rps: number; p50: number; p99: number; errors: number }[]> = { off: [], on: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
      const local = new Cleanup();
      try {
        const rig = await startRigAgent(local, { cgroup: cg.path, pod, simUrl: sim.url, config: [`  backstop_interfaces: [${mode === 'on' ? pod.nodeInterface : 'none-such'}]`] });
        const key = ((await (await rig.control('/keys', { method: 'POST', body: JSON.stringify({ agent: 'bench', team: 'bench' }) })).json()) as { key: string }).key;
        // The pod dials the provider; the kernel sends it to the proxy.
        const base = `http://${prov.address}:${SIM_PORT}`;
        await inPod(base, key); // warm-up (also in the measured mode)
        rounds[mode].push(await inPod(base, key));
        const stats = ((await (await rig.control('/node')).json()) as { stats: { bypassDropped: number; redirects: number } }).stats;
        if (stats.bypassDropped !== 0) throw new Error(`the backstop dropped ${stats.bypassDropped} packets of governed traffic`);
      } finally {
        await local.run();
      }
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const show = (m: 'off' | 'on') => `${f(median(rounds[m].map((r) => r.rps)), 0)} req/s (p50 ${median(rounds[m].map((r) => r.p50))} ms, p99 ${median(rounds[m].map((r) => r.p99))} ms, ${rounds[m].reduce((s, r) => s + r.errors, 0)} errors)`;
  console.log(`governed chat from a pod through the kernel redirect and the proxy, 16 connections, ${SECONDS} s, median of ${ROUNDS} alternating rounds:`);
  console.log(`  backstop off: ${show('off')}`);
  console.log(`  backstop on:  ${show('on')}`);
  console.log(`  on/off throughput ${f(median(rounds.on.map((r) => r.rps)) / median(rounds.off.map((r) => r.rps)), 3)}`);
}

async function main(): Promise<void> {
  console.log('\n# packet backstop (eBPF)\n');
  if (SKIP_REASON !== null) {
    console.log(`skipped: ${SKIP_REASON}`);
    return;
  }
  const cleanup = new Cleanup();
  try {
    perPacket(cleanup);
    await cleanup.run();
    await throughput(cleanup);
  } finally {
    await cleanup.run();
  }
}

await main();
