// The index that names a cgroup by its id (a cgroup v2 id is its directory's inode number),
// tested on an ordinary directory tree: the walk and its throttle are the same.
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { CgroupIndex } from '../../agent/src/node/workloads.js';

const inode = (dir: string) => statSync(dir, { bigint: true }).ino;

test('regression: a cgroup made right after another was looked up is still named (the walk was held back, and the workload stayed nameless)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-index-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const index = new CgroupIndex(root, root);
  mkdirSync(join(root, 'leaf'));
  t.is(index.identify(inode(join(root, 'leaf'))).cgroupPath, '/leaf');
  // Made within the throttle's 100 ms of the walk that found `leaf`.
  mkdirSync(join(root, 'leaf', 'shadow'));
  t.is(index.identify(inode(join(root, 'leaf', 'shadow'))).cgroupPath, '/leaf/shadow');
});

test('an id that is nowhere is looked for again only at the throttled pace', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'cgroup-index-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const index = new CgroupIndex(root, root);
  t.is(index.identify(123456789n).cgroupPath, null);
  // A directory made now is not found by the same missing id's next lookup within 100 ms (no walk), but is by its own.
  mkdirSync(join(root, 'late'));
  t.is(index.identify(123456789n).cgroupPath, null);
  t.is(index.identify(inode(join(root, 'late'))).cgroupPath, '/late');
});
