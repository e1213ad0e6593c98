// SqliteStore runs the services' async transactions (ServiceStore.transaction) as well as its own
// synchronous ones: an async one commits when its promise resolves and rolls back when it rejects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { SqliteStore } from '../../agent/src/state/sqlite.js';

const kill = { scope: 'agent' as const, target: 'bot', reason: null, by: 'admin', createdAt: 1 };
const level = { agent: 'bot', level: 'kill' as const, setBy: 'operator:admin', reason: null, since: 1 };

function stores(t: import('ava').ExecutionContext): { store: SqliteStore; reader: SqliteStore } {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-sqlite-tx-'));
  const store = new SqliteStore(dir);
  const reader = new SqliteStore(dir);
  t.teardown(() => {
    reader.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { store, reader };
}

test('an async transaction commits both writes once its promise resolves', async (t) => {
  const { store, reader } = stores(t);
  const out = await store.transaction(async (tx) => {
    await tx.putAgentLevel(level);
    await tx.putKill(kill);
    return 'done';
  });
  t.is(out, 'done');
  t.deepEqual(reader.listKills(), [kill], 'seen from another connection: committed');
  t.is(reader.listAgentLevels().length, 1);
  // The connection is out of the transaction: the next one begins cleanly.
  store.transaction(() => store.deleteKill('agent', 'bot'));
  t.deepEqual(reader.listKills(), []);
});

test('an async transaction that rejects after its first write rolls it back', async (t) => {
  const { store, reader } = stores(t);
  await t.throwsAsync(
    store.transaction(async (tx) => {
      await tx.putAgentLevel(level);
      throw new Error('second write failed');
    }),
    { message: 'second write failed' },
  );
  t.deepEqual(reader.listAgentLevels(), []);
  await store.transaction(async (tx) => tx.putKill(kill));
  t.deepEqual(reader.listKills(), [kill], 'a failed transaction leaves the store usable');
});
