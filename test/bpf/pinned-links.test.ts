// With a pin directory, the cgroup attachment outlives the agent: an agent that dies leaves
// the workloads governed (fail closed), and the next agent takes over without a gap.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BpfEnforcer } from '../../agent/src/bpf/index.js';
import { Child, Cleanup, listen, TempCgroup } from './rig.js';
import { bpfSuite } from './suite.js';
import { runCli } from '../helpers/process.js';

const AI_HOST = '127.0.0.2';

/** How many programs are attached to a cgroup, as bpftool sees them. */
function attachedTo(path: string): number {
  const out = JSON.parse(execFileSync('bpftool', ['-j', 'cgroup', 'show', path], { encoding: 'utf8' }).trim() || '[]') as unknown[];
  return out.length;
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());

  test.serial('pinned links keep the cgroup governed after the agent is gone, and the next agent replaces them without doubling', async (t) => {
    const mount = mkdtempSync(join(tmpdir(), 'altrace-bpffs-'));
    cleanup.add(() => rmdirSync(mount));
    execFileSync('mount', ['-t', 'bpf', 'bpf', mount]);
    cleanup.add(() => execFileSync('umount', [mount]));
    cleanup.add(() => {
      for (const f of readdirSync(mount)) if (f.startsWith('alt_') || f.startsWith('link-')) rmSync(join(mount, f));
    });
    const [ai, proxy] = [await listen(AI_HOST, cleanup), await listen('127.0.0.1', cleanup)];
    const cg = TempCgroup.create(cleanup);

    const first = BpfEnforcer.load({ pinDir: mount });
    first.addDestination(AI_HOST);
    first.setProxyAddress({ address: '127.0.0.1', port: proxy.port }, { allowLoopback: true });
    first.attachCgroup(cg.path);
    t.is(attachedTo(cg.path), 9);
    first.close(); // as an agent that dies: its fds are gone, its pins are not
    t.is(attachedTo(cg.path), 9, 'still attached with no agent process holding them');

    const child = await Child.spawn(cleanup);
    cg.enter(child.pid);
    const r = await child.call({ op: 'connect', host: AI_HOST, port: ai.port, hold: true });
    t.true(r.ok);
    await proxy.connectionFrom(r.local!.port);
    t.is(ai.accepted.length, 0, 'redirected to the proxy with no agent running');

    const second = BpfEnforcer.load({ pinDir: mount });
    cleanup.add(() => second.close());
    second.attachCgroup(cg.path);
    t.is(attachedTo(cg.path), 9, 'the new links replaced the old ones');
    t.is(readdirSync(mount).filter((f) => f.startsWith('link-')).length, 9);
    second.detachCgroup(cg.path);
    t.is(attachedTo(cg.path), 0, 'an explicit detach removes the pinned links too');
    t.deepEqual(readdirSync(mount).filter((f) => f.startsWith('link-')), []);
  });

  test.serial('altrace bpf uninstall removes what an agent left pinned: the programs detach, the maps go', async (t) => {
    const mount = mkdtempSync(join(tmpdir(), 'altrace-bpffs-'));
    cleanup.add(() => rmdirSync(mount));
    execFileSync('mount', ['-t', 'bpf', 'bpf', mount]);
    cleanup.add(() => execFileSync('umount', [mount]));
    const cg = TempCgroup.create(cleanup);
    const agent = BpfEnforcer.load({ pinDir: mount });
    agent.kill(7n);
    agent.attachCgroup(cg.path);
    agent.close(); // the DaemonSet is deleted: its pins stay
    t.is(attachedTo(cg.path), 9, 'still enforcing with no agent');
    const r = await runCli(['bpf', 'uninstall', '--pin-dir', mount, '--json']);
    t.is(r.code, 0, r.stderr);
    const { removed } = JSON.parse(r.stdout) as { removed: string[] };
    t.true(removed.includes('alt_deny') && removed.filter((n) => n.startsWith('link-')).length === 9);
    t.is(attachedTo(cg.path), 0, 'nothing attached any more');
    t.deepEqual(readdirSync(mount).filter((f) => f.startsWith('alt_') || f.startsWith('link-')), []);
    t.is((await runCli(['bpf', 'uninstall', '--pin-dir', mount])).code, 1, 'a second run finds nothing');
    t.is((await runCli(['bpf', 'uninstall'])).code, 2, 'the pin directory is required');
  });
});
