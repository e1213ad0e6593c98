// The stream relay takes upstream chunks as they come and delivers synchronously unless a stage
// or the agent's socket makes it wait (issue 25): these are the two waits. An agent that stops
// reading holds the upstream stream back (nothing piles up in the proxy), and a batch still being
// scanned when upstream ends is delivered before the end, in order.
import test from 'ava';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI from 'openai';
import { startHarness, eventually, type Harness } from '../helpers/harness.js';

const EVENTS = 6_000;
/** ~8 KB of prose per event: 48 MB in all, more than every socket buffer between upstream and agent holds. */
const WORDS = 'the quick brown fox jumps over the lazy dog while the river runs on '.repeat(120);

interface Upstream {
  server: Server;
  url: string;
  /** Events written so far, and whether the writer is waiting for the proxy to read. */
  written: number;
  waiting: boolean;
  done: boolean;
}

async function floodingUpstream(): Promise<Upstream> {
  const up: Upstream = { server: null as never, url: '', written: 0, waiting: false, done: false };
  up.server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < EVENTS; i++) {
        const chunk = { id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, delta: { content: `${i} ${WORDS}` }, finish_reason: null }] };
        up.written = i + 1;
        if (!res.write(`data: ${JSON.stringify(chunk)}\n\n`)) {
          up.waiting = true;
          await once(res, 'drain');
          up.waiting = false;
        }
      }
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o-mini', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\n`);
      res.end('data: [DONE]\n\n');
      up.done = true;
    });
  });
  up.server.listen(0, '127.0.0.1');
  await once(up.server, 'listening');
  up.url = `http://127.0.0.1:${(up.server.address() as AddressInfo).port}`;
  return up;
}

test('an agent that stops reading holds the upstream stream back; reading again, it gets every fragment in order', async (t) => {
  const up = await floodingUpstream();
  const h: Harness = await startHarness({ ALTRACE_OPENAI_BASE_URL: `${up.url}/v1`, ALTRACE_UPSTREAM_BODY_TIMEOUT_MS: '60000' });
  t.teardown(async () => {
    await h.close();
    up.server.close();
  });
  const { key } = await h.createKey({ agent: 'slow-reader', team: 'qa' });
  // Each wait for the agent's socket must take its listeners away again (they piled up once, one per wait).
  const warnings: string[] = [];
  const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', onWarning);
  t.teardown(() => void process.off('warning', onWarning));
  const url = new URL(`${h.proxyUrl}/v1/chat/completions`);
  const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } });
  req.end(JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'flood me' }] }));
  const [res] = (await once(req, 'response')) as [IncomingMessage];
  t.is(res.statusCode, 200);
  res.pause();
  // Not reading: upstream must end up waiting for the proxy, far from done.
  await eventually(() => up.waiting && !up.done, 20_000, 'upstream waiting on the proxy while the agent does not read');
  // Batches already read may still be crossing to a decider on another thread (ALTRACE_TEST_SEAM=copied,
  // ALTRACE_TEST_LOOPS=2), and the proxy takes up to its buffers' worth more as they are delivered: measure
  // once upstream has stood still for a whole second (a pause of 100-200 ms is not yet the hold).
  let since = up.written;
  let stillFor = 0;
  await eventually(async () => {
    await new Promise((r) => setTimeout(r, 250));
    stillFor = up.written === since ? stillFor + 250 : 0;
    since = up.written;
    return stillFor >= 1000;
  }, 30_000, 'upstream standing still for a second');
  const heldAt = up.written;
  await new Promise((r) => setTimeout(r, 300));
  t.true(up.waiting && !up.done && up.written === heldAt, `upstream kept writing while the agent did not read (${heldAt} → ${up.written} of ${EVENTS})`);
  t.true(heldAt < EVENTS, `${heldAt} of ${EVENTS} events written before upstream had to wait`);
  // Reading again: everything, in order, then the end.
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (d: string) => (text += d));
  res.resume();
  await once(res, 'end');
  const numbers = [...text.matchAll(/"content":"(\d+) /g)].map((m) => Number(m[1]));
  t.is(numbers.length, EVENTS);
  t.true(numbers.every((n, i) => n === i), 'fragments in order');
  t.true(text.trimEnd().endsWith('data: [DONE]'));
  t.deepEqual(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning')), []);
});

test('a batch still being scanned when upstream ends is delivered before the end, in order', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.close());
  const { key } = await h.createKey({ agent: 'late-scan', team: 'qa' });
  const client = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 });
  for (let round = 0; round < 5; round++) {
    // "password" sends the window to the scan workers (a promise); the simulator's last event and
    // [DONE] follow at once, so upstream ends while that scan is still running.
    const fragments = ['Rotate ', 'the ', 'service ', 'password ', 'monthly.'];
    h.sim.next({ fragments });
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'policy?' }] });
    let text = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta?.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    t.is(text, fragments.join(''));
    t.is(finish, 'stop');
  }
});
