// Lifetimes: the addon in a worker thread, and an event subscription that must not hold a
// process open once stopped (or when asked not to).
import test from 'ava';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { Cleanup } from './rig.js';
import { bpfSuite } from './suite.js';

const ENFORCER = new URL('../../agent/src/bpf/index.js', import.meta.url).href;

/** Source of a worker or process body that has BpfEnforcer in scope. */
const withEnforcer = (body: string) => `import(${JSON.stringify(ENFORCER)}).then(async ({ BpfEnforcer }) => { ${body} });`;

/** Whether a process running body exits cleanly (status 0) by itself within ms. */
async function exitsWithin(body: string, ms: number): Promise<boolean> {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', withEnforcer(body)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = once(proc, 'exit') as Promise<[number | null, string | null]>;
  const result = await Promise.race([exited.then(([code]) => code === 0), sleep(ms).then(() => null)]);
  if (result === null) {
    proc.kill('SIGKILL');
    await exited;
  }
  return result === true;
}

bpfSuite(() => {
  const cleanup = new Cleanup();
  test.after.always(() => cleanup.run());

  test.serial('the addon loads the programs inside a worker thread, which may exit without closing', async (t) => {
    const body = `
      const { parentPort } = await import('node:worker_threads');
      const bpf = BpfEnforcer.load();
      bpf.events(() => {});
      parentPort.postMessage(bpf.programs().length);`;
    const worker = new Worker(withEnforcer(body), { eval: true });
    cleanup.add(() => worker.terminate());
    const [count] = await once(worker, 'message');
    t.is(count, 11);
    // Terminating runs the addon's env cleanup hook: it stops the poller thread and frees
    // the object; the test process carries on.
    await worker.terminate();
  });

  test.serial('a worker that closes what it loaded exits by itself', async (t) => {
    const body = `
      const bpf = BpfEnforcer.load();
      const sub = bpf.events(() => {});
      sub.stop();
      bpf.close();
      bpf.close();`;
    const worker = new Worker(withEnforcer(body), { eval: true });
    cleanup.add(() => worker.terminate());
    const [code] = await once(worker, 'exit');
    t.is(code, 0);
  });

  test.serial('a stopped event subscription does not keep the process alive', async (t) => {
    t.true(await exitsWithin('const bpf = BpfEnforcer.load(); const sub = bpf.events(() => {}); setTimeout(() => sub.stop(), 50);', 10_000));
  });

  test.serial('keepAlive: false lets the process exit while still subscribed; the default holds it', async (t) => {
    t.true(await exitsWithin('const bpf = BpfEnforcer.load(); bpf.events(() => {}, { keepAlive: false });', 10_000));
    t.false(await exitsWithin('const bpf = BpfEnforcer.load(); bpf.events(() => {});', 1_500), 'a live subscription holds the loop, like a listening socket');
  });
});
