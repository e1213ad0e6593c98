import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { SimulatedProvider } from '../sim/server.js';
import { loadConfig } from '../config/load.js';
import { startAgent } from '../runtime.js';

const HELP = `altrace demo — see governance decisions offline

Usage: altrace demo [--keep]

Starts the simulated provider and an agent on free loopback ports (state in a temporary
directory), issues a virtual key, and sends requests that are allowed, blocked and cut
mid-stream, printing each decision. --keep leaves both running until Ctrl-C.
`;

/**
 * Whether the simulated provider saw the cut stream's connection close before it finished.
 * The agent's abort reaches it a moment after the client's stream has ended, so look for a while.
 */
async function upstreamClosed(sim: SimulatedProvider): Promise<boolean> {
  const seen = sim.last();
  for (let waited = 0; seen && !seen.closedEarly && !seen.completed && waited < 2000; waited += 20) await new Promise((r) => setTimeout(r, 20));
  return seen?.closedEarly === true;
}

export async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { keep: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const sim = await new SimulatedProvider().start();
  const stateDir = mkdtempSync(join(tmpdir(), 'altrace-demo-'));
  const adminToken = `altop-${randomBytes(18).toString('base64url')}`;
  const env = {
    ALTRACE_PROXY_PORT: '0',
    ALTRACE_CONTROL_PORT: '0',
    ALTRACE_STATE_DIR: stateDir,
    ALTRACE_ADMIN_TOKEN: adminToken,
    ALTRACE_OPENAI_BASE_URL: `${sim.url}/v1`,
    ALTRACE_ANTHROPIC_BASE_URL: sim.url,
    OPENAI_API_KEY: 'sk-demo-real-provider-key',
    ANTHROPIC_API_KEY: 'sk-ant-demo-real-provider-key',
  };
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const agent = await startAgent(loadConfig({ env }), env, quiet);
  const proxy = `http://127.0.0.1:${agent.proxyPort}`;
  const say = (s: string) => process.stdout.write(s + '\n');
  try {
    const created = await fetch(`http://127.0.0.1:${agent.controlPort}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agent: 'support-bot', team: 'support', models: ['gpt-4o-mini'] }),
    }).then((r) => r.json() as Promise<{ key: string; id: string }>);
    say(`proxy ${proxy}   simulated provider ${sim.url}`);
    say(`issued virtual key ${created.key.slice(0, 10)}… (id ${created.id}) for agent support-bot, models gpt-4o-mini\n`);

    const chat = async (title: string, key: string, body: object) => {
      const res = await fetch(`${proxy}/v1/chat/completions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      const reason = res.headers.get('x-altrace-reason') ?? 'allowed';
      say(`${title}\n  → HTTP ${res.status}  ${reason}  (overhead ${res.headers.get('x-altrace-overhead-ms')} ms)`);
      return text;
    };
    const ok = await chat('1. an allowed request', created.key, { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    say(`  answer: ${JSON.parse(ok).choices[0].message.content}`);
    const seen = sim.last();
    say(`  the provider saw: ${String(seen?.headers.authorization).slice(0, 16)}… (the real key, injected by the credential lane)\n`);
    const before = sim.count();
    await chat('2. a model outside the key scope', created.key, { model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] });
    await chat('3. a real provider key sent through the proxy', 'sk-live-should-never-be-here', { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    say(`  requests that reached the provider for 2 and 3: ${sim.count() - before}\n`);
    // The provider would go on for seconds: the cut must end its stream, not wait for it.
    const rest = Array.from({ length: 100 }, (_, i) => `line${i} `);
    sim.next({ fragments: ['Here is ', 'the key: ', '-----BEGIN RSA PRIVATE KEY-----', 'MIIEow...', ...rest], fragmentDelayMs: 30 });
    const streamed = await chat('4. a streamed answer that turns into a private key', created.key, { model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'key?' }] });
    const events = streamed.split('\n\n').filter(Boolean);
    say(`  delivered ${events.length - 1} events, then: ${events[events.length - 1]!.slice(0, 110)}…`);
    say(`  the private key fragment reached the agent: ${streamed.includes('BEGIN RSA') ? 'YES' : 'no'}; upstream aborted: ${(await upstreamClosed(sim)) ? 'yes' : 'no'}`);
    if (values.keep) {
      say(`\nrunning; admin token ${adminToken}; Ctrl-C to stop`);
      await new Promise<void>((r) => process.once('SIGINT', () => r()));
    }
    return 0;
  } finally {
    await agent.close();
    await sim.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}
