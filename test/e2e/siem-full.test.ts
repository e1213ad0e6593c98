// A SIEM sink too far behind (issue 24, item 6): the declared policy applies, counted and alerted.
// when_full: block holds new requests back (ALT_AUDIT_BACKLOG, 503) until the sink catches up;
// drop_oldest skips the oldest records for that sink (the audit log still holds them) and traffic
// goes on. The receiver is a plain TCP server on loopback, down at first.
import test from 'ava';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { eventually, startHarness } from '../helpers/harness.js';
import { freePort } from '../fixtures/rsyslog.js';

/** A syslog receiver that counts octet-counted messages. */
async function receiver(port: number): Promise<{ server: Server; messages: () => number }> {
  let text = '';
  const server = createServer((s) => s.on('data', (d: Buffer) => (text += d.toString('latin1'))));
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return { server, messages: () => (text.match(/\d+ <\d+>1 /g) ?? []).length };
}

async function withSink(t: { teardown(f: () => unknown): void }, whenFull: 'block' | 'drop_oldest') {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'altrace-siem-full-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'altrace.yaml'), ['siem:', '  sinks:', '    - name: soc', '      type: syslog', `      address: 127.0.0.1:${port}`, '      tls: false', '      max_lag_records: 5', `      when_full: ${whenFull}`, ''].join('\n'));
  const h = await startHarness({ ALTRACE_CONFIG: join(dir, 'altrace.yaml') });
  t.teardown(() => h.close());
  const metric = async (name: string) => Number(new RegExp(`^${name}\\{sink="soc"\\} (\\d+)`, 'm').exec(await (await fetch(`${h.controlUrl}/metrics`)).text())?.[1]);
  return { h, port, metric };
}

const chat = async (baseURL: string, apiKey: string) => {
  try {
    await new OpenAI({ apiKey, baseURL, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    return 'ok';
  } catch (err) {
    return String((err as { error?: { altrace?: { reason?: string } } }).error?.altrace?.reason ?? (err as Error).message);
  }
};

test('when_full: block: past its cap the sink holds new requests back (ALT_AUDIT_BACKLOG), alerted; once the receiver is back and it catches up, they pass again', async (t) => {
  const { h, port, metric } = await withSink(t, 'block');
  const { key } = await h.createKey({ agent: 'backlog-bot', team: 'qa' });
  for (let i = 0; i < 8; i++) await h.control('GET', '/keys');
  await eventually(async () => (await metric('altrace_siem_full')) === 1, 5000, 'the sink is full');
  t.is(await chat(`${h.proxyUrl}/v1`, key), 'ALT_AUDIT_BACKLOG');
  const { server, messages } = await receiver(port);
  t.teardown(() => server.close());
  await eventually(async () => (await metric('altrace_siem_full')) === 0, 40_000, 'caught up once the receiver is back');
  t.is(await chat(`${h.proxyUrl}/v1`, key), 'ok');
  t.true(messages() >= 9, 'nothing was skipped');
  t.is(await metric('altrace_siem_dropped_total'), 0);
});

test('when_full: drop_oldest: past its cap the oldest records are skipped for the sink, counted; traffic goes on', async (t) => {
  const { h, port, metric } = await withSink(t, 'drop_oldest');
  const { key } = await h.createKey({ agent: 'dropping-bot', team: 'qa' });
  for (let i = 0; i < 12; i++) await h.control('GET', '/keys');
  t.is(await chat(`${h.proxyUrl}/v1`, key), 'ok', 'never held back');
  await eventually(async () => (await metric('altrace_siem_dropped_total')) > 0, 40_000, 'the oldest are skipped');
  const { server, messages } = await receiver(port);
  t.teardown(() => server.close());
  await eventually(async () => (await metric('altrace_siem_lag_records')) === 0 && messages() > 0, 40_000, 'the rest arrive');
  t.true(messages() <= 7, `at most the cap and what came after: ${messages()}`);
});
