import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentLevels, BudgetLedger, KeyRegistry, KillSwitches, type KillSwitch } from '../../proxy/src/index.js';
import { FollowedState, type FollowedRegistries } from '../../agent/src/follower/followed-state.js';
import { SnapshotFileError, readSnapshotFile, writeSnapshotFile } from '../../agent/src/follower/snapshot-file.js';
import type { Change, ChangeKind } from '../../agent/src/state/postgres/index.js';

function registries(): FollowedRegistries & { engaged: KillSwitch[] } {
  const kills = new KillSwitches();
  const engaged: KillSwitch[] = [];
  kills.onEngage((k) => engaged.push(k));
  return { keys: new KeyRegistry(), kills, levels: new AgentLevels(), budgets: new BudgetLedger(), tokens: new Map(), engaged };
}

/** Changes numbered 1, 2, 3 … for one test. */
function log(): (kind: ChangeKind, payload: unknown) => Change {
  let v = 0;
  return (kind, payload) => ({ version: ++v, kind, payload, at: 1_000 + v });
}
const key = (id: string) => ({ id, hash: `h-${id}`, prefix: 'alt-x', agent: `agent-${id}`, team: 't', models: [], providers: [], costCenter: null, expiresAt: null, revokedAt: null, createdAt: 1 });
const kill = (target: string) => ({ scope: 'agent', target, reason: 'runaway', by: 'ops', createdAt: 5 });

test('deltas fill the registries in version order; a duplicate is ignored and a gap asks for a snapshot', (t) => {
  const change = log();
  const r = registries();
  const s = new FollowedState(r);
  t.is(s.applyDelta(change('key.put', key('k1'))), 'applied');
  t.is(r.keys.get('k1')?.agent, 'agent-k1');
  const engage = change('kill.put', kill('b-bot'));
  t.is(s.applyDelta(engage), 'applied');
  t.truthy(r.kills.get('agent', 'b-bot'));
  t.is(r.engaged.length, 1, 'the switch fired: streams of b-bot end');
  t.is(s.applyDelta(engage), 'duplicate');
  t.is(r.engaged.length, 1);
  const skipped = { ...change('kill.delete', { scope: 'agent', target: 'b-bot' }), version: 10 };
  t.is(s.applyDelta(skipped), 'gap');
  t.truthy(r.kills.get('agent', 'b-bot'), 'nothing is applied past a gap');
  t.is(s.version, 2);
});

test('deletes and resting puts undo what was put: a released switch, a level back at normal, a deleted budget', (t) => {
  const change = log();
  const r = registries();
  const s = new FollowedState(r);
  s.applyDelta(change('kill.put', kill('b-bot')));
  s.applyDelta(change('level.put', { agent: 'b-bot', level: 'throttle', setBy: 'operator:ops', reason: null, since: 1 }));
  s.applyDelta(change('budget.put', { scope: 'team', target: 't', limits: { daily: 5, weekly: null, monthly: null }, by: 'ops', updatedAt: 1 }));
  s.applyDelta(change('token.put', { hash: 'th', name: 'ci', team: 't', createdAt: 1 }));
  t.is(s.changes().length, 4);
  s.applyDelta(change('kill.delete', { scope: 'agent', target: 'b-bot' }));
  s.applyDelta(change('level.put', { agent: 'b-bot', level: 'normal', setBy: 'operator:ops', reason: null, since: 2 }));
  s.applyDelta(change('budget.delete', { scope: 'team', target: 't' }));
  s.applyDelta(change('token.delete', { name: 'ci' }));
  t.is(r.kills.get('agent', 'b-bot'), undefined);
  t.is(r.levels.get('b-bot'), undefined);
  t.is(r.budgets.budget('team', 't'), undefined);
  t.is(r.tokens.size, 0);
  t.deepEqual(s.changes(), []);
});

test('a snapshot replaces the state: what it lacks is removed, what is unchanged does not fire again', (t) => {
  const change = log();
  const r = registries();
  const s = new FollowedState(r);
  const kept = change('kill.put', kill('a-bot'));
  s.applyDelta(kept);
  s.applyDelta(change('kill.put', kill('gone-bot')));
  s.applyDelta(change('key.put', key('k1')));
  t.is(r.engaged.length, 2);
  s.applySnapshot(40, [kept, { ...change('key.put', key('k2')), version: 39 }]);
  t.is(s.version, 40);
  t.truthy(r.kills.get('agent', 'a-bot'));
  t.is(r.kills.get('agent', 'gone-bot'), undefined);
  t.is(r.keys.get('k1'), undefined);
  t.truthy(r.keys.get('k2'));
  t.is(r.engaged.length, 2, 'a-bot was engaged already: no second firing');
  t.is(s.applyDelta({ ...change('kill.put', kill('c-bot')), version: 41 }), 'applied');
});

test('the snapshot file restores the same state after a restart; a damaged file is an error, not an empty state', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-followed-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'fleet-snapshot.pb');
  t.is(readSnapshotFile(path), null);
  const change = log();
  const before = new FollowedState(registries());
  before.applyDelta(change('key.put', key('k1')));
  before.applyDelta(change('kill.put', kill('b-bot')));
  before.applyDelta(change('level.put', { agent: 'x', level: 'block', setBy: 'operator:ops', reason: 'r', since: 3 }));
  writeSnapshotFile(path, before.version, before.changes());
  const restored = registries();
  const after = new FollowedState(restored);
  const file = readSnapshotFile(path)!;
  after.applySnapshot(file.version, file.state);
  t.is(after.version, 3);
  t.deepEqual(after.changes(), before.changes());
  t.truthy(restored.kills.get('agent', 'b-bot'));
  t.is(restored.levels.get('x')?.level, 'block');
  writeFileSync(path, Buffer.from([0x0a, 0xff, 0xff, 0xff]));
  const err = t.throws(() => readSnapshotFile(path), { instanceOf: SnapshotFileError });
  t.is(err.code, 'ALT_FLEET_SNAPSHOT_UNREADABLE');
});
