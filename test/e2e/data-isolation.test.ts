import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { stringify as stringifyYaml } from 'yaml';
import { ROOT } from '../helpers/process.js';
import { startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

let h: Harness;
let key: string;
const dir = mkdtempSync(join(tmpdir(), 'altrace-isolation-'));

test.before(async () => {
  const policy = shippedPolicy();
  policy.content = {
    rules: [{ label: 'secret', action: 'block' }, { label: 'pii', action: 'allow' }],
    isolation: { cross_provider: 'block', regulated_destinations: ['openai'] },
  };
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'router', team: 'platform' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const openai = (run?: string) => new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: run ? { 'x-altrace-run': run } : {} });
const anthropic = (run?: string) => new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0, defaultHeaders: run ? { 'x-altrace-run': run } : {} });

async function reason(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return ((e as { error?: { altrace?: { reason?: string } } }).error?.altrace?.reason ?? String(e)) as string;
  }
}

const ANSWER = 'The launch codename is Blue Heron; it ships to three markets in March, pricing stays flat.';

test.serial('within a run, what one provider produced does not reach another provider', async (t) => {
  h.sim.next({ text: ANSWER });
  const first = await openai('run-1').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'draft the launch note' }] });
  t.is(first.choices[0]!.message.content, ANSWER);

  const handoff = (client: Anthropic) =>
    client.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: `Polish this: ${ANSWER}` }] });
  const before = h.sim.count();
  t.is(await reason(handoff(anthropic('run-1'))), 'ALT_DATA_ISOLATION');
  t.is(h.sim.count(), before, 'the second provider never saw it');

  t.is(await reason(handoff(anthropic('run-2'))), 'ok', 'another run carries no such label');
  t.is(
    await reason(openai('run-1').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Polish this: ${ANSWER}` }] })),
    'ok',
    'the same provider may see its own output again',
  );
});

test.serial('what one provider saw in a run does not reach another provider either', async (t) => {
  const brief = 'Internal brief: the Atlas migration moves billing to the new ledger on the 14th, rollback window 2h.';
  t.is(await reason(anthropic('run-3').messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: brief }] })), 'ok');
  t.is(await reason(openai('run-3').chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `Summarise: ${brief}` }] })), 'ALT_DATA_ISOLATION');
});

test.serial('regulated labels go only to approved destinations', async (t) => {
  const prompt = 'Email the invoice to maria.lopez@client.example today.';
  t.is(await reason(openai().chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })), 'ok');
  t.is(await reason(anthropic().messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: prompt }] })), 'ALT_DATA_ISOLATION');
});
