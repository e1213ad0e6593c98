// Provider keys from a secret mount, laid out as the kubelet writes a Kubernetes Secret volume
// (each key a link into `..data`, which links to a timestamped directory swapped in one rename):
// a rotated secret is used from the next request without a restart, a request already under way
// finishes with the key it was given, and a malformed secret is a clear error on its upstream only.
import test from 'ava';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { eventually, REAL_KEYS, startHarness } from '../helpers/harness.js';

/** Writes a new version of the secret's files and swaps `..data` to it, as the kubelet's atomic writer does. */
function publish(dir: string, version: string, files: Record<string, string>): void {
  const target = join(dir, `..${version}`);
  mkdirSync(target);
  for (const [name, value] of Object.entries(files)) writeFileSync(join(target, name), value);
  symlinkSync(`..${version}`, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try {
      symlinkSync(join('..data', name), join(dir, name));
    } catch {
      // Already a link into ..data.
    }
  }
}

test('a rotated secret is used for the next request, in-flight ones finish with the old key, a malformed one fails its upstream only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'altrace-secret-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  publish(dir, '2026_12_06_01', { openai: 'sk-from-the-secret-v1\n' });
  // The environment wins over the mount: the OpenAI key comes from the mount only.
  const h = await startHarness({ ALTRACE_CREDENTIALS_DIR: dir, OPENAI_API_KEY: '' });
  t.teardown(() => h.close());
  const { key } = await h.createKey({ agent: 'rotator', team: 'ops' });
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  const chat = () => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  const lastKey = () => h.sim.last()?.headers.authorization;

  await chat();
  t.is(lastKey(), 'Bearer sk-from-the-secret-v1');

  // A slow request is under way when the secret rotates.
  h.sim.defaultScript = { latencyMs: 1500 };
  const inFlight = chat();
  await eventually(() => h.sim.received.length === 2, 2000, 'the slow request reached the provider');
  publish(dir, '2026_12_06_02', { openai: 'sk-from-the-secret-v2\n' });
  h.sim.defaultScript = {};
  await eventually(async () => {
    await chat();
    return lastKey() === 'Bearer sk-from-the-secret-v2';
  }, 5000, 'the rotated key is used without a restart');
  await t.notThrowsAsync(inFlight, 'the request under way finished');
  t.is(h.sim.received[1]!.headers.authorization, 'Bearer sk-from-the-secret-v1', 'with the key it was given');

  // A malformed secret: a clear error on that upstream, naming the file; the others carry on.
  publish(dir, '2026_12_06_03', { openai: 'access_key_id: AKIA-without-its-secret\n' });
  const err = await eventually(async () => {
    try {
      await chat();
      return false;
    } catch (e) {
      return (e as { status?: number }).status === 503;
    }
  }, 5000, 'the malformed secret takes effect');
  t.true(err);
  const refused = await fetch(`${h.proxyUrl}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }) });
  t.is(refused.headers.get('x-altrace-reason'), 'ALT_CREDENTIAL_MISSING');
  const audit = (await (await h.control('GET', '/audit?reason=ALT_CREDENTIAL_MISSING&limit=1')).json()) as { records: { decision?: { detail?: string } }[] };
  t.regex(audit.records[0]?.decision?.detail ?? '', /secret file .*openai holds a mapping with neither api_key nor access_key_id and secret_access_key/);
  const anthropic = new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 });
  const msg = await anthropic.messages.create({ model: 'claude-3-5-haiku-latest', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  t.truthy(msg.id, 'another upstream is untouched');
  t.is(h.sim.last()?.headers['x-api-key'], REAL_KEYS.anthropic);
});
