// The PostgreSQL store when the server goes away: a listener that outlives a restart, writes
// that were acknowledged surviving a SIGKILL, and a test server that leaves nothing behind.
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { PgStore } from '../../agent/src/state/postgres/index.js';
import type { PostgresServer } from '../fixtures/postgres.js';
import { eventually } from '../helpers/harness.js';
import { postgresSuite, sharedPostgres } from '../helpers/postgres-suite.js';

const T0 = Date.parse('2026-12-02T12:00:00.000Z');

function kill(target: string) {
  return { scope: 'agent' as const, target, reason: null, by: 'admin', createdAt: T0 };
}

/** A pid that is gone, or a zombie waiting for init: either way nothing runs. */
function running(pid: number): boolean {
  if (!existsSync(`/proc/${pid}/stat`)) return false;
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

postgresSuite(() => {
  // One server for the file, and the tests in order: each restarts or kills it.
  let pg!: PostgresServer;
  sharedPostgres((server) => (pg = server));

  test.serial('a listener survives a server restart: it reconnects, hears the head, and then new commits', async (t) => {
    const url = await pg.createDatabase('listener_restart');
    const store = await PgStore.open(url);
    t.teardown(() => store.close());
    await store.putKill(kill('before'));
    const heard: number[] = [];
    const errors: Error[] = [];
    await store.listen((v) => heard.push(v), { onError: (e) => errors.push(e) });
    t.deepEqual(heard, [1]);

    await pg.restart();
    await eventually(() => heard.length >= 2, 10_000, 'the listener reconnecting after the restart');
    t.is(heard[1], 1, 'on reconnecting it hears the head again');
    t.true(errors.length > 0, 'the lost connection was reported');

    // The pool's connections died with the server; the next write gets a fresh one.
    await store.putKill(kill('after'));
    await eventually(() => heard.includes(2), 2000, 'the NOTIFY of a commit after the restart');
    t.deepEqual((await store.changesSince(1)).map((c) => (c.payload as { target: string }).target), ['after']);
  });

  test.serial('every acknowledged write survives a SIGKILL of the server mid-stream; writes in flight fail without crashing the process', async (t) => {
    const url = await pg.createDatabase('durability');
    const store = await PgStore.open(url, { max: 4 });
    const acknowledged: string[] = [];
    const failed: string[] = [];
    let i = 0;
    let stop = false;
    const writer = async () => {
      while (!stop) {
        const target = `agent-${i++}`;
        try {
          await store.putKill(kill(target));
          acknowledged.push(target);
        } catch {
          failed.push(target);
          return;
        }
      }
    };
    const writers = [writer(), writer(), writer(), writer()];
    await eventually(() => acknowledged.length >= 20, 10_000, 'twenty acknowledged writes');
    await pg.kill();
    stop = true;
    await Promise.all(writers);
    await store.close().catch(() => {});
    t.true(failed.length > 0, 'writes in flight when the server died were not acknowledged');

    await pg.start();
    const after = await PgStore.open(url);
    t.teardown(() => after.close());
    const kept = new Set((await after.listKills()).map((k) => k.target));
    t.deepEqual(acknowledged.filter((a) => !kept.has(a)), [], 'no acknowledged kill was lost');
    // The change log survived with them: gapless, one change per kill that committed.
    const changes = await after.changesSince(0, 10_000);
    t.deepEqual(changes.map((c) => c.version), changes.map((_, n) => n + 1));
    t.is(changes.length, kept.size);
    t.is(await after.headVersion(), kept.size);
  });

  test.serial('stop() ends every server process and removes the directory, socket and data', async (t) => {
    const pid = pg.pid();
    t.not(pid, null);
    const dir = pg.dir;
    await pg.stop();
    t.false(running(pid!), `postmaster ${pid} still runs`);
    t.false(existsSync(dir));
    await pg.stop(); // twice is harmless (after.always calls it again)
  });

  test('a test process that dies without calling stop() leaves no server process and no directory behind', async (t) => {
    const script = new URL('../fixtures/postgres-abandoned.js', import.meta.url).pathname;
    const err = await t.throwsAsync(promisify(execFile)(process.execPath, [script], { timeout: 60_000 }));
    const { stdout, stderr } = err as unknown as { stdout: string; stderr: string };
    t.regex(stderr, /nothing called stop\(\)/);
    const { pid, dir } = JSON.parse(stdout) as { pid: number; dir: string };
    t.false(running(pid), `postmaster ${pid} outlived its test process`);
    t.false(existsSync(dir));
  });
});
