// What a request controls cannot break the audit log, and start-up never cuts records that
// verify: a log it cannot read is a stop-and-explain, only a write torn by a crash is repaired.
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { frame, MAX_RECORD_BYTES, readFrames } from '../../agent/src/audit/files.js';
import { decodeRecord } from '../../agent/src/audit/records.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';

const HUGE_MODEL = 'm'.repeat(1_200_000);
const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A state directory whose log holds traffic, a 1.2 MB model name among it, and signed checkpoints. */
async function loggedDir(): Promise<{ dir: string; h: Harness }> {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-audit-bounds-'));
  dirs.push(dir);
  const h = await startHarness({ ALTRACE_STATE_DIR: dir });
  const { key } = await h.createKey({ agent: 'bounded', team: 'qa', models: ['gpt-4o-mini'] });
  const chat = (model: string, auth?: string) =>
    fetch(`${h.proxyUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
    });
  for (let i = 0; i < 3; i++) t200(await chat('gpt-4o-mini', key));
  const anonymous = await chat(HUGE_MODEL);
  if (anonymous.status !== 401) throw new Error(`an anonymous request answered ${anonymous.status}`);
  await chat(HUGE_MODEL, key);
  for (let i = 0; i < 3; i++) t200(await chat('gpt-4o-mini', key));
  await h.control('GET', '/audit/checkpoint');
  return { dir, h };
}

function t200(res: Response): void {
  if (res.status !== 200) throw new Error(`expected 200, got ${res.status}`);
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

async function verifyCli(dir: string) {
  const r = await runCli(['audit', 'verify', '--state-dir', dir, '--json']);
  return { code: r.code, report: JSON.parse(r.stdout) as { ok: boolean; records: number; first_bad_record: number | null; problem: string | null } };
}

test('a 1.2 MB model name is recorded bounded: the log verifies live and offline, and a restart keeps every record', async (t) => {
  const { dir, h } = await loggedDir();
  try {
    t.like(await (await h.control('GET', '/audit/verify')).json(), { ok: true });
    const records = readFrames(join(dir, 'audit/records.log')).records;
    t.true(records.every((r) => r.length < 16 * 1024), 'no record near the reader limit');
    const huge = records.map(decodeRecord).filter((r) => r.decision?.model?.startsWith('mmmm'));
    t.is(huge.length, 2, 'the anonymous request and the keyed one');
    for (const r of huge) t.regex(r.decision!.model!, /^m{256}…\[1200000 chars\]$/);
    const line = h.logs.find((l) => l.includes('"model":"mmmm'));
    t.truthy(line);
    t.true(line!.length < 4096, 'the decision line is bounded too');
  } finally {
    await h.close();
  }
  const before = readFrames(join(dir, 'audit/records.log')).records.length;
  const again = await startHarness({ ALTRACE_STATE_DIR: dir });
  try {
    t.like(await (await again.control('GET', '/audit/verify')).json(), { ok: true });
    t.true(readFrames(join(dir, 'audit/records.log')).records.length >= before, 'nothing was cut at start-up');
  } finally {
    await again.close();
  }
  const offline = await verifyCli(dir);
  t.is(offline.code, 0);
  t.true(offline.report.ok);
});

test('a frame the reader cannot read stops the start, says where, and changes nothing', async (t) => {
  const { dir, h } = await loggedDir();
  await h.close();
  const file = join(dir, 'audit/records.log');
  const { records } = readFrames(file);
  // A frame over the limit in the middle of the log (as an older writer could write), records after it.
  const oversized = Buffer.alloc(4 + MAX_RECORD_BYTES + 10);
  oversized.writeUInt32BE(MAX_RECORD_BYTES + 10, 0);
  writeFileSync(file, Buffer.concat([...records.slice(0, 4).map(frame), oversized, ...records.slice(4).map(frame)]));
  const digest = sha(file);
  const err = await t.throwsAsync(startHarness({ ALTRACE_STATE_DIR: dir }));
  t.regex(err!.message, /cannot be read past record 4 .*claims 1048586 bytes.*Nothing was changed/s);
  t.is(sha(file), digest, 'not one byte cut');
  const offline = await verifyCli(dir);
  t.is(offline.code, 1);
  t.is(offline.report.first_bad_record, 4);
  t.regex(offline.report.problem!, /over the 1048576-byte record limit/);
});

test('a write torn by a crash after the last checkpoint is cut off; a torn log a checkpoint covers stops the start', async (t) => {
  const { dir, h } = await loggedDir();
  await h.close();
  const file = join(dir, 'audit/records.log');
  const whole = readFileSync(file);
  appendFileSync(file, Buffer.from([0, 0, 1, 0, 42, 42, 42]));
  const torn = await startHarness({ ALTRACE_STATE_DIR: dir });
  try {
    t.like(await (await torn.control('GET', '/audit/verify')).json(), { ok: true });
    t.true(readFileSync(file).subarray(0, whole.length).equals(whole), 'the records before the torn write are intact');
  } finally {
    await torn.close();
  }
  // Now the file loses records a signed checkpoint covers, and ends in half a frame.
  const { records } = readFrames(file);
  writeFileSync(file, Buffer.concat([...records.slice(0, records.length - 3).map(frame), frame(records[records.length - 3]!).subarray(0, 9)]));
  const digest = sha(file);
  const err = await t.throwsAsync(startHarness({ ALTRACE_STATE_DIR: dir }));
  t.regex(err!.message, /checkpoint \d+ signed \d+.*damaged, not torn by a crash/s);
  t.is(sha(file), digest);
});

test('without a signed checkpoint nothing verifies: a log rewritten consistently fails, not passes', async (t) => {
  const { dir, h } = await loggedDir();
  await h.close();
  rmSync(join(dir, 'audit/checkpoints.log'));
  const offline = await verifyCli(dir);
  t.is(offline.code, 1);
  t.false(offline.report.ok);
  t.regex(offline.report.problem!, /no signed checkpoint/);
});
