import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { stringify as stringifyYaml } from 'yaml';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { ROOT } from '../helpers/process.js';
import { shippedPolicy } from '../helpers/policy.js';

const dir = mkdtempSync(join(tmpdir(), 'altrace-reload-'));
const file = join(dir, 'policy.yaml');
const base = shippedPolicy() as { models: Record<string, string[]> };
let h: Harness;
let key: string;

function writePolicy(models: string[], how: 'in-place' | 'rename'): void {
  const text = stringifyYaml({ ...base, models: { ...base.models, openai: models } });
  if (how === 'in-place') writeFileSync(file, text);
  else {
    // What editors and config-map updates do: a new file renamed over the old one.
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
}

const modelCode = (model: string) =>
  new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions
    .create({ model, messages: [{ role: 'user', content: 'hi' }] })
    .then(
      () => 'ok',
      (e: { code?: string }) => e.code ?? 'error',
    );

/** What the agent answers for the model once the reload has landed (polls until `want` or 3 s). */
async function settlesTo(model: string, want: string): Promise<string> {
  let got = '';
  await eventually(() => {
    void modelCode(model).then((c) => (got = c));
    return got === want;
  }, 3000);
  return got;
}

test.before(async () => {
  writePolicy(['gpt-4o-mini'], 'in-place');
  h = await startHarness({ ALTRACE_POLICY: file });
  key = (await h.createKey({ agent: 'reload', team: 'ops' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('a policy edited in place is picked up', async (t) => {
  t.is(await modelCode('gpt-4.1'), 'ALT_MODEL_UNKNOWN');
  writePolicy(['gpt-4o-mini', 'gpt-4.1'], 'in-place');
  t.true(await eventually(() => h.logs.some((l) => l.includes('"msg":"policy reloaded"')), 3000));
  t.is(await modelCode('gpt-4.1'), 'ok');
});

test.serial('a policy replaced by rename is picked up, again and again', async (t) => {
  for (const [models, allowed] of [
    [['gpt-4o-mini'], false],
    [['gpt-4o-mini', 'gpt-4.1'], true],
  ] as const) {
    writePolicy([...models], 'rename');
    const want = allowed ? 'ok' : 'ALT_MODEL_UNKNOWN';
    t.is(await settlesTo('gpt-4.1', want), want);
  }
});

test.serial('an invalid edit is refused and the last good policy stays in force', async (t) => {
  writeFileSync(file, 'version: 1\nmodels: { openai: 42 }\n');
  t.true(await eventually(() => h.logs.some((l) => l.includes('policy reload refused') && l.includes('models')), 3000));
  t.is(await modelCode('gpt-4.1'), 'ok', 'still the last good policy');
  t.is(await modelCode('gpt-4o-mini'), 'ok');
});

test.serial('a policy that names another contracts directory moves the watch there: later edits in it apply without a restart', async (t) => {
  const contracts = join(dir, 'contracts-b');
  mkdirSync(contracts);
  const contract = (models: string[]) => writeFileSync(join(contracts, 'ops.yaml'), stringifyYaml({ contract: 'ops-models', version: models.length, applies_to: { teams: ['ops'] }, models }));
  contract(['gpt-4o-mini']);
  writeFileSync(file, stringifyYaml({ ...base, models: { ...base.models, openai: ['gpt-4o-mini', 'gpt-4.1'] }, contracts: { dir: contracts, require: false } }));
  t.is(await settlesTo('gpt-4.1', 'ALT_CONTRACT_MODEL_DENIED'), 'ALT_CONTRACT_MODEL_DENIED', 'the contract in the new directory applies');
  // An edit inside the new directory alone (the policy file untouched) is picked up.
  contract(['gpt-4o-mini', 'gpt-4.1']);
  t.is(await settlesTo('gpt-4.1', 'ok'), 'ok');
});

test.serial('a policy refused for a bad contract in its new directory still watches that directory: the fix there applies', async (t) => {
  const contracts = join(dir, 'contracts-c');
  mkdirSync(contracts);
  writeFileSync(join(contracts, 'ops.yaml'), stringifyYaml({ contract: 'ops-strict', version: 1, applies_to: { teams: ['ops'] }, models: ['gpt-4o-mini'], colour: 'red' }));
  writeFileSync(file, stringifyYaml({ ...base, models: { ...base.models, openai: ['gpt-4o-mini', 'gpt-4.1'] }, contracts: { dir: contracts, require: false } }));
  t.true(await eventually(() => h.logs.some((l) => l.includes('policy reload refused') && l.includes('colour')), 3000));
  t.is(await modelCode('gpt-4.1'), 'ok', 'the last good policy (contracts-b allows gpt-4.1) stays in force');
  writeFileSync(join(contracts, 'ops.yaml'), stringifyYaml({ contract: 'ops-strict', version: 2, applies_to: { teams: ['ops'] }, models: ['gpt-4o-mini'] }));
  t.is(await settlesTo('gpt-4.1', 'ALT_CONTRACT_MODEL_DENIED'), 'ALT_CONTRACT_MODEL_DENIED', 'the fixed contract applies without touching the policy file');
});

test.serial('every reload, and every refused one, is an audit record (a policy change is a security event the SIEM receives)', async (t) => {
  writePolicy(['gpt-4o-mini', 'gpt-4o'], 'rename');
  type Rec = { control?: { operator: string; action: string; target?: string; status: number; error?: string } };
  const records = async () => ((await (await h.control('GET', '/audit?limit=500')).json()) as { records: Rec[] }).records.filter((r) => r.control?.action === 'POLICY reload');
  await eventually(async () => (await records()).some((r) => r.control!.status === 200 && r.control!.target!.includes('digest:')), 5000, 'the reload is recorded');
  writeFileSync(file, 'version: [this is not a policy');
  await eventually(async () => (await records()).some((r) => r.control!.status === 400 && r.control!.error === 'ALT_POLICY_INVALID'), 5000, 'the refused reload is recorded');
  t.true((await records()).every((r) => r.control!.operator === 'policy-file'));
  writePolicy(['gpt-4o-mini', 'gpt-4.1'], 'rename');
});
