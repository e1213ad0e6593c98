import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { frame, readFrames } from '../../agent/src/audit/files.js';
import { decodeRecord, encodeRecord } from '../../agent/src/audit/records.js';
import { REAL_KEYS, startHarness, type Harness } from '../helpers/harness.js';
import { runCli } from '../helpers/process.js';

let h: Harness;
let key: string;
let snapshot: string;
const scratch: string[] = [];

async function json<T = any>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

const chat = (content: string, model = 'gpt-4o-mini') =>
  new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model, messages: [{ role: 'user', content }] }).catch((e: unknown) => e);

test.before(async () => {
  h = await startHarness();
  key = (await h.createKey({ agent: 'auditor', team: 'compliance', models: ['gpt-4o-mini'] })).key;
  // Several checkpoints: traffic, a forced checkpoint, more traffic, another.
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 4; i++) await chat(`confidential prompt number ${round}-${i}`);
    await chat('a model outside the key scope', 'gpt-4.1');
    await h.control('GET', '/audit/checkpoint');
  }
  await h.control('POST', '/kill', { scope: 'agent', target: 'auditor', reason: 'audit drill' });
  await chat('after the kill');
  await h.control('GET', '/audit/checkpoint');
  snapshot = mkdtempSync(join(tmpdir(), 'altrace-audit-'));
  scratch.push(snapshot);
  cpSync(join(h.agent.stateDir, 'audit'), join(snapshot, 'audit'), { recursive: true });
});
test.after.always(async () => {
  await h?.close();
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

test.serial('every decision and control call is a record: principal, stage, reason, cost — never content or keys', async (t) => {
  const all = await json<{ records: any[] }>(await h.control('GET', '/audit?limit=1000'));
  const decisions = all.records.filter((r) => r.decision);
  t.true(decisions.some((r) => r.decision.outcome === 'allow' && r.decision.reason === 'ALT_ALLOWED' && r.decision.cost_usd > 0 && r.principal.agent === 'auditor'));
  t.true(decisions.some((r) => r.decision.reason === 'ALT_MODEL_NOT_ALLOWED' && r.decision.stage === 'model-scope'));
  t.true(decisions.some((r) => r.decision.reason === 'ALT_KILLED_AGENT' && r.decision.outcome === 'kill'));
  t.true(decisions.every((r) => typeof r.decision.contract === 'string' && r.decision.contract.includes('@')), 'each names the policy that decided');
  t.true(all.records.some((r) => r.control?.action === 'POST /kill' && r.control.status === 201 && r.control.operator === 'admin'));
  const exported = await (await h.control('GET', '/audit/export')).text();
  const raw = readFileSync(join(h.agent.stateDir, 'audit/records.log')).toString('latin1');
  for (const text of [exported, raw]) {
    t.false(text.includes('confidential prompt'), 'no prompt text');
    t.false(text.includes(key) || text.includes(REAL_KEYS.openai), 'no virtual or real key');
  }
  const seqs = exported.trim().split('\n').map((l) => JSON.parse(l).seq as number);
  t.deepEqual(seqs, seqs.map((_, i) => i), 'export is the whole log in order');
});

test.serial('filters and team scope', async (t) => {
  const killed = await json<{ records: any[] }>(await h.control('GET', '/audit?reason=ALT_KILLED_AGENT'));
  t.true(killed.records.length >= 1 && killed.records.every((r) => r.decision.reason === 'ALT_KILLED_AGENT'));
  const page = await json<{ records: any[]; next_before: number }>(await h.control('GET', '/audit?limit=2'));
  t.is(page.records.length, 2);
  const next = await json<{ records: any[] }>(await h.control('GET', `/audit?limit=2&before=${page.next_before}`));
  t.true(next.records[0].seq < page.records[1].seq);
  const other = (await json(await h.control('POST', '/tokens', { name: 'other-team', team: 'elsewhere' }))).token as string;
  t.deepEqual((await json(await h.controlAs(other, 'GET', '/audit'))).records, [], 'another team sees none of it');
  t.is((await h.controlAs(other, 'GET', '/audit/verify')).status, 403);
  t.is((await h.control('GET', '/audit?colour=red')).status, 400);
  t.is((await h.control('GET', '/audit?limit=0')).status, 400);
});

test.serial('the running log verifies, and its checkpoint is a signed note for the published key', async (t) => {
  const v = await json(await h.control('GET', '/audit/verify'));
  t.like(v, { ok: true, first_bad_record: null });
  t.true(v.checkpoints >= 4);
  const c = await json<{ checkpoint: string; verifier_key: string }>(await h.control('GET', '/audit/checkpoint'));
  t.regex(c.checkpoint, /^altrace\.local\/[^\n]+\/audit\n\d+\n[A-Za-z0-9+/]{43}=\n\n\u2014 /);
  t.is(c.verifier_key, readFileSync(join(h.agent.stateDir, 'audit/verifier.key'), 'utf8').trim());
});

/** A copy of the snapshot with its records rewritten by `mutate`. */
function tampered(mutate: (records: Buffer[]) => Buffer[] | Buffer): string {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-tamper-'));
  scratch.push(dir);
  cpSync(join(snapshot, 'audit'), join(dir, 'audit'), { recursive: true });
  const file = join(dir, 'audit/records.log');
  const out = mutate(readFrames(file).records);
  writeFileSync(file, Array.isArray(out) ? Buffer.concat(out.map(frame)) : out);
  return dir;
}

async function verifyCli(dir: string): Promise<{ code: number | null; report: any }> {
  const vkey = readFileSync(join(snapshot, 'audit/verifier.key'), 'utf8').trim();
  const r = await runCli(['audit', 'verify', '--state-dir', dir, '--key', vkey, '--json']);
  return { code: r.code, report: JSON.parse(r.stdout) };
}

test.serial('altrace audit verify: the untouched log passes', async (t) => {
  const { code, report } = await verifyCli(snapshot);
  t.is(code, 0);
  t.true(report.ok);
  t.true(report.records > 15);
});

test.serial('tampering is caught and the first bad record named: modify', async (t) => {
  const dir = tampered((rs) => {
    const r = decodeRecord(rs[5]!);
    r.decision!.reason = 'ALT_ALLOWED';
    r.decision!.outcome = 'allow';
    r.decision!.cost_usd = 0;
    return rs.map((x, i) => (i === 5 ? Buffer.from(encodeRecord(r)) : x));
  });
  const { code, report } = await verifyCli(dir);
  t.is(code, 1);
  t.is(report.first_bad_record, 5);
});

test.serial('tampering is caught: insert', async (t) => {
  const { code, report } = await verifyCli(tampered((rs) => [...rs.slice(0, 7), rs[3]!, ...rs.slice(7)]));
  t.is(code, 1);
  t.is(report.first_bad_record, 7);
});

test.serial('tampering is caught: delete', async (t) => {
  const { code, report } = await verifyCli(tampered((rs) => [...rs.slice(0, 4), ...rs.slice(5)]));
  t.is(code, 1);
  t.is(report.first_bad_record, 4);
});

test.serial('tampering is caught: reorder', async (t) => {
  const { code, report } = await verifyCli(tampered((rs) => [...rs.slice(0, 8), rs[9]!, rs[8]!, ...rs.slice(10)]));
  t.is(code, 1);
  t.is(report.first_bad_record, 8);
});

test.serial('tampering is caught: truncate', async (t) => {
  const { code, report } = await verifyCli(tampered((rs) => rs.slice(0, rs.length - 3)));
  t.is(code, 1);
  t.regex(report.problem, /truncated/);
  const torn = await verifyCli(tampered((rs) => Buffer.concat(rs.map(frame)).subarray(0, -7)));
  t.is(torn.code, 1, 'a record cut in half');
});

test.serial('a forged checkpoint, or the wrong key, fails', async (t) => {
  const dir = tampered((rs) => rs);
  const file = join(dir, 'audit/checkpoints.log');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/\\n(\d+)\\n/, (_m, n: string) => `\\n${Number(n) + 1}\\n`));
  t.is((await verifyCli(dir)).code, 1);
  const wrongKey = await runCli(['audit', 'verify', '--state-dir', snapshot, '--key', 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW']);
  t.is(wrongKey.code, 1);
});

test.serial('inclusion and consistency proofs verify offline with the key alone; a doctored proof does not', async (t) => {
  const vkey = readFileSync(join(snapshot, 'audit/verifier.key'), 'utf8').trim();
  const inclusion = await runCli(['audit', 'prove', '--state-dir', snapshot, '--index', '3']);
  t.is(inclusion.code, 0, inclusion.stderr);
  const proofFile = join(snapshot, 'inclusion.json');
  writeFileSync(proofFile, inclusion.stdout);
  const ok = await runCli(['audit', 'check', proofFile, '--key', vkey]);
  t.is(ok.code, 0, ok.stdout + ok.stderr);
  t.regex(ok.stdout, /record 3 is included in the signed tree of size \d+/);

  const doc = JSON.parse(inclusion.stdout);
  const forged = decodeRecord(Buffer.from(doc.record, 'base64'));
  forged.time_unix_ms += 1;
  writeFileSync(proofFile, JSON.stringify({ ...doc, record: Buffer.from(encodeRecord(forged)).toString('base64') }));
  t.is((await runCli(['audit', 'check', proofFile, '--key', vkey])).code, 1);

  const sizes = readFileSync(join(snapshot, 'audit/checkpoints.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l).size as number);
  const consistency = await runCli(['audit', 'prove', '--state-dir', snapshot, '--from', String(sizes[0]), '--to', String(sizes[sizes.length - 1])]);
  t.is(consistency.code, 0, consistency.stderr);
  const cFile = join(snapshot, 'consistency.json');
  writeFileSync(cFile, consistency.stdout);
  const cOk = await runCli(['audit', 'check', cFile, '--key', vkey]);
  t.is(cOk.code, 0, cOk.stdout);
  t.regex(cOk.stdout, /extends the signed tree of size/);
  const cDoc = JSON.parse(consistency.stdout);
  cDoc.proof[0] = Buffer.alloc(32).toString('base64');
  writeFileSync(cFile, JSON.stringify(cDoc));
  t.is((await runCli(['audit', 'check', cFile, '--key', vkey])).code, 1);
  t.is((await runCli(['audit', 'prove', '--state-dir', snapshot])).code, 2, 'prove needs --index or --from');
});
