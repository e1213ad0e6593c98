// The fragment histogram (altrace_fragment_overhead_seconds) measures a fragment's whole stay in
// the proxy (issue 25, item 1): from its bytes arriving from upstream — the moment the upstream
// call stamps on the stream — to its write to the agent completing. A fragment whose bytes
// waited 80 ms before the relay took them is recorded as having stayed at least that long.
import test from 'ava';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { relayStream } from '../../proxy/src/pipeline/relay.js';
import { ProxyMetrics } from '../../proxy/src/metrics.js';
import { ARRIVED, type StampedStream } from '../../proxy/src/upstream/call.js';
import { azureAdapter } from '../../proxy/src/providers/azure/index.js';
import { Exchange } from '../../proxy/src/pipeline/exchange.js';

/** Starts `server` on loopback and reads one response of it whole. */
async function served(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/' }, (res) => {
      let s = '';
      res.on('data', (d: Buffer) => (s += d));
      res.on('end', () => resolve(s));
    })
      .on('error', reject)
      .end();
  });
}

test('a fragment whose bytes waited before the relay took them is recorded with the wait', async (t) => {
  const metrics = new ProxyMetrics();
  const event = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'hello' }, finish_reason: null }] })}\n\n`;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const body = new Readable({ read() {} }) as StampedStream;
    // As the upstream call does: the bytes arrived 80 ms before the relay gets to them.
    body[ARRIVED] = performance.now() - 80;
    body.push(event);
    body.push(null);
    const x = new Exchange('req-1', req, res, azureAdapter());
    void relayStream(x, body, azureAdapter().decoder({} as never), null, metrics).then(() => res.end());
  });
  const text = await served(server);
  t.teardown(() => server.close());
  t.is(text, event, 'delivered as it came');
  const rendered = await metrics.registry.getSingleMetricAsString('altrace_fragment_overhead_seconds');
  const bucket = (le: string) => Number(new RegExp(`altrace_fragment_overhead_seconds_bucket\\{le="${le.replace("+", "\\+")}"\\} (\\d+)`).exec(rendered)?.[1]);
  t.is(bucket('+Inf'), 1, 'one fragment');
  t.is(bucket('0.05'), 0, 'not under 50 ms: the 80 ms its bytes waited are counted');
});

test('regression: upstream ending while a batch is scanned, with a last event that is scanned too, ends the relay only after both (it finished before the last batch, and closed the stages mid-scan)', async (t) => {
  const { ResponseInspection } = await import('../../proxy/src/chain/chain.js');
  const metrics = new ProxyMetrics();
  const order: string[] = [];
  // A stage that answers later, as the scan workers do, and says when it is finished and closed.
  const inspection = new ResponseInspection(
    [
      {
        id: 'slow-scan',
        inspector: {
          inspect: (fragments: readonly { text: string }[]) => new Promise((resolve) => setTimeout(() => (order.push(`scanned ${fragments.map((f) => f.text).join('+')}`), resolve(null)), 40)),
          finish: () => (order.push('finish'), null),
          close: () => void order.push('close'),
        } as never,
      },
    ],
    null,
    5_000,
  );
  // A decoder whose end still yields an event (a format whose last event completes at the end).
  const decoder = {
    push: (chunk: Uint8Array) => [{ raw: Buffer.from(chunk).toString(), text: 'first' }],
    end: () => [{ raw: 'data: last\n\n', text: 'last' }],
  };
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const body = new Readable({ read() {} });
    body.push('data: first\n\n');
    body.push(null);
    const x = new Exchange('req-2', req, res, azureAdapter());
    void relayStream(x, body, decoder as never, inspection, metrics).then(() => {
      order.push(`relay over: completed ${x.response.completed}, ${x.response.fragments} fragments`);
      res.end();
    });
  });
  const text = await served(server);
  t.teardown(() => server.close());
  t.is(text, 'data: first\n\ndata: last\n\n');
  t.deepEqual(order, ['scanned first', 'scanned last', 'finish', 'close', 'relay over: completed true, 2 fragments']);
});
