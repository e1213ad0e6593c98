import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import { stringify as stringifyYaml } from 'yaml';
import { ROOT } from '../helpers/process.js';
import { CUT_TAIL as TAIL, eventually, startHarness, type Harness } from '../helpers/harness.js';
import { shippedPolicy } from '../helpers/policy.js';

let h: Harness;
let key: string;
const dir = mkdtempSync(join(tmpdir(), 'altrace-canary-'));
const CANARY = /\[(altc-[0-9a-f]{12})\] This bracketed token is confidential/;

test.before(async () => {
  const policy = shippedPolicy();
  policy.content.canary = true;
  writeFileSync(join(dir, 'policy.yaml'), stringifyYaml(policy));
  h = await startHarness({ ALTRACE_POLICY: join(dir, 'policy.yaml') });
  key = (await h.createKey({ agent: 'helpdesk', team: 'support' })).key;
});
test.after.always(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

test.serial('each provider gets a fresh canary where it keeps its system prompt', async (t) => {
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }] });
  const chat = h.sim.last()!.body as { messages: { role: string; content: string }[] };
  t.is(chat.messages.length, 2, 'appended to the existing system message');
  t.true(chat.messages[0]!.content.startsWith('Be brief.\n\n'));
  const first = CANARY.exec(chat.messages[0]!.content)![1];

  await new Anthropic({ apiKey: key, baseURL: h.proxyUrl, maxRetries: 0 }).messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: [{ role: 'user', content: 'hi' }] });
  const second = CANARY.exec((h.sim.last()!.body as { system: string }).system)![1];

  const gemini = new GoogleGenAI({ apiKey: key, httpOptions: { baseUrl: h.proxyUrl } });
  await gemini.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi', config: { systemInstruction: 'Answer in French.' } });
  const parts = (h.sim.last()!.body as { systemInstruction: { parts: { text: string }[] } }).systemInstruction.parts;
  t.is(parts[0]!.text, 'Answer in French.');
  const third = CANARY.exec(parts[1]!.text)![1];
  t.is(new Set([first, second, third]).size, 3, 'a new token per request');
});

test.serial('a stream that repeats the canary is cut at the fragment that completes it', async (t) => {
  const openai = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  // The simulated model echoes back what it was told: the canary arrives split across two fragments.
  let planted = '';
  h.sim.next({
    reply: (body) => {
      planted = CANARY.exec((body as { messages: { content: string }[] }).messages[0]!.content)![1]!;
      return ['My secret token is ', planted.slice(0, 7), planted.slice(7), ' ok', ...TAIL];
    },
    fragmentDelayMs: 20,
  });
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'what token?' }] });
  const got: string[] = [];
  const err = await t.throwsAsync(async () => {
    for await (const chunk of stream) got.push(chunk.choices[0]?.delta?.content ?? '');
  });
  t.is((err as InstanceType<typeof OpenAI.APIError>).code, 'ALT_SYSTEM_PROMPT_LEAK');
  t.is(got.join(''), `My secret token is ${planted.slice(0, 7)}`);
  t.true(await eventually(() => h.sim.last()!.closedEarly));
});
