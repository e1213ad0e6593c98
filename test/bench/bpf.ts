// `npm run bench`, node enforcement part (root): connect() latency from a governed cgroup
// with and without the programs attached, as ratios measured in this run, and events per
// second from the kernel's ring buffer to JS, with drops counted.
import { BpfEnforcer, type BpfEvent } from '../../agent/src/bpf/index.js';
import { Child, Cleanup, listen, SKIP_REASON, TempCgroup } from '../bpf/rig.js';

const AI_HOST = '127.0.0.2';
const CONNECTS = 3000;
const DATAGRAMS = 200_000;

async function main(): Promise<void> {
  console.log('\n# node enforcement (eBPF)\n');
  if (SKIP_REASON !== null) {
    console.log(`skipped: ${SKIP_REASON}`);
    return;
  }
  const cleanup = new Cleanup();
  try {
    const bpf = BpfEnforcer.load();
    cleanup.add(() => bpf.close());
    const [ai, proxy, other] = [await listen(AI_HOST, cleanup), await listen('127.0.0.1', cleanup), await listen('127.0.0.1', cleanup)];
    bpf.addDestination(AI_HOST);
    bpf.setProxyAddress({ address: '127.0.0.1', port: proxy.port }, { allowLoopback: true });
    const cg = TempCgroup.create(cleanup);
    const child = await Child.spawn(cleanup);
    cg.enter(child.pid);
    const perConnect = async (host: string, port: number) => {
      await child.call({ op: 'connect-bench', host, port, n: 200 }, 60_000); // warm-up
      return Number((await child.call({ op: 'connect-bench', host, port, n: CONNECTS }, 60_000)).nsPerConnect) / 1000;
    };
    // Alternating rounds, median of each: the load generator shares two cores with everything else.
    const rounds: { bare: number; judged: number; redirected: number }[] = [];
    for (let round = 0; round < 3; round++) {
      const bare = await perConnect('127.0.0.1', other.port);
      bpf.attachCgroup(cg.path);
      const judged = await perConnect('127.0.0.1', other.port);
      const redirected = await perConnect(AI_HOST, ai.port);
      bpf.detachCgroup(cg.path);
      rounds.push({ bare, judged, redirected });
      for (const s of [...ai.accepted.splice(0), ...proxy.accepted.splice(0), ...other.accepted.splice(0)]) s.destroy();
    }
    const median = (k: 'bare' | 'judged' | 'redirected') => rounds.map((r) => r[k]).sort((a, b) => a - b)[1]!;
    const [bare, judged, redirected] = [median('bare'), median('judged'), median('redirected')];
    bpf.attachCgroup(cg.path);
    console.log(`connect() + accept, ${CONNECTS} sequential, loopback, median of 3 alternating rounds: no programs ${bare.toFixed(1)} µs; attached, not AI-bound ${judged.toFixed(1)} µs (×${(judged / bare).toFixed(2)}); AI-bound, redirected ${redirected.toFixed(1)} µs (×${(redirected / bare).toFixed(2)})`);

    let received = 0;
    const sub = bpf.events((e: BpfEvent) => void (e.kind === 'udp_refused' && received++), { keepAlive: false });
    cleanup.add(() => sub.stop());
    const before = bpf.stats();
    const flood = await child.call({ op: 'udp-flood', host: AI_HOST, port: 443, n: DATAGRAMS }, 120_000);
    await new Promise((r) => setTimeout(r, 300));
    const after = bpf.stats();
    const seconds = Number(flood.elapsedNs) / 1e9;
    const drops = after.drops - before.drops + (after.eventsLost - before.eventsLost);
    if (process.env.BPF_BENCH_DEBUG) console.log({ kernel: after.drops - before.drops, js: after.eventsLost - before.eventsLost });
    console.log(`ring buffer → JS: ${flood.refused} refused datagrams in ${seconds.toFixed(2)} s = ${(received / seconds).toFixed(0)} events/s delivered, ${received} received, ${drops} dropped`);
  } finally {
    await cleanup.run();
  }
}

await main();
