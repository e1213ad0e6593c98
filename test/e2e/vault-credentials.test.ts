// Provider credentials from Vault's KV v2 API (a stand-in that speaks it: no Vault server runs
// here): read at start, a team's own key beside the shared one, a rotation used from the next
// request, and a Vault that goes away keeps the last good credentials.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';
import { VaultStandIn } from '../fixtures/vault.js';

const dir = mkdtempSync(join(tmpdir(), 'altrace-vault-'));
const vault = new VaultStandIn('hvs.test-token-0000');
let h: Harness;

test.before(async () => {
  await vault.start();
  vault.put('altrace/anthropic', { api_key: 'sk-ant-from-vault-1' });
  vault.put('altrace/anthropic@payments', { api_key: 'sk-ant-payments-from-vault-1' });
  writeFileSync(join(dir, 'token'), 'hvs.test-token-0000\n');
  // ANTHROPIC_API_KEY unset: the environment would win over Vault.
  h = await startHarness({ ALTRACE_VAULT_ADDR: vault.url, ALTRACE_VAULT_TOKEN_FILE: join(dir, 'token'), ALTRACE_VAULT_REFRESH_S: '1', ANTHROPIC_API_KEY: '' });
});
test.after.always(async () => {
  await h?.close();
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});

async function keyAtProvider(team: string): Promise<string> {
  const { key } = await h.createKey({ agent: `${team}-writer`, team });
  const res = await fetch(`${h.proxyUrl}/v1/messages`, { method: 'POST', headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: JSON.stringify({ model: 'claude-sonnet-7-0', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }) });
  if (res.status !== 200) return `status ${res.status}: ${(await res.text()).slice(0, 160)}`;
  return String(h.sim.last()!.headers['x-api-key']);
}

test.serial('credentials are read from Vault at start: the shared key, and a team\'s own', async (t) => {
  t.is(await keyAtProvider('ops'), 'sk-ant-from-vault-1');
  t.is(await keyAtProvider('payments'), 'sk-ant-payments-from-vault-1');
  t.true(vault.seen.some((s) => s === 'GET /v1/secret/metadata/altrace?list=true'));
});

test.serial('a secret rotated in Vault is used for the next request; Vault going away keeps the last good one', async (t) => {
  vault.put('altrace/anthropic', { api_key: 'sk-ant-from-vault-2' });
  await eventually(async () => (await keyAtProvider('ops')) === 'sk-ant-from-vault-2', 6000, 'the rotated key in use');
  vault.down = true;
  const reads = vault.seen.length;
  await eventually(() => vault.seen.length > reads + 1, 6000, 'the agent read Vault again');
  t.is(await keyAtProvider('ops'), 'sk-ant-from-vault-2', 'still the last good key');
  t.true(h.logs.join('').includes('Vault answered 503'), 'the failed read is logged, naming the answer');
  t.false(h.logs.join('').includes('sk-ant-from-vault'), 'no key in the log');
  vault.down = false;
});

test('a wrong token is an error naming Vault\'s answer, not a crash', async (t) => {
  const other = await startHarness({ ALTRACE_VAULT_ADDR: vault.url, ALTRACE_VAULT_REFRESH_S: '60', VAULT_TOKEN: 'hvs.wrong', ANTHROPIC_API_KEY: '' });
  try {
    t.true(other.logs.join('').includes('Vault answered 403 to GET /v1/secret/metadata/altrace?list=true: permission denied'));
    const { key } = await other.createKey({ agent: 'w', team: 'ops' });
    const client = new OpenAI({ apiKey: key, baseURL: `${other.proxyUrl}/v1`, maxRetries: 0 });
    t.truthy(await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }), 'other upstreams are unaffected');
  } finally {
    await other.close();
  }
});
