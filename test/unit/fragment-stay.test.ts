// The fragment histogram (altrace_fragment_overhead_seconds) measures a fragment's whole stay in
// the proxy (issue 25, item 1): from its bytes arriving from upstream — the moment the upstream
// call stamps on the stream — to its write to the agent completing. A fragment whose bytes
// waited 80 ms before the relay took them is recorded as having stayed at least that long.
import test from 'ava';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { relayStream } from '../../proxy/src/pipeline/relay.js';
import { ProxyMetrics } from '../../proxy/src/metrics.js';
import { ARRIVED, type StampedStream } from '../../proxy/src/upstream/call.js';
import { azureAdapter } from '../../proxy/src/providers/azure/index.js';

test('a fragment whose bytes waited before the relay took them is recorded with the wait', async (t) => {
  const metrics = new ProxyMetrics();
  const event = `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 0, model: 'gpt-4o', choices: [{ index: 0, delta: { content: 'hello' }, finish_reason: null }] })}\n\n`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const body = new Readable({ read() {} }) as StampedStream;
    // As the upstream call does: the bytes arrived 80 ms before the relay gets to them.
    body[ARRIVED] = performance.now() - 80;
    body.push(event);
    body.push(null);
    const x = { res, usage: null, outputText: '', usageRequested: false, fragments: 0, ctx: null, upstream: { cancel() {} }, clientGone: false } as never;
    void relayStream(x, body, azureAdapter().decoder({} as never), null, metrics).then(() => res.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => server.close());
  const text = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/' }, (res) => {
      let s = '';
      res.on('data', (d: Buffer) => (s += d));
      res.on('end', () => resolve(s));
    })
      .on('error', reject)
      .end();
  });
  t.is(text, event, 'delivered as it came');
  const rendered = await metrics.registry.getSingleMetricAsString('altrace_fragment_overhead_seconds');
  const bucket = (le: string) => Number(new RegExp(`altrace_fragment_overhead_seconds_bucket\\{le="${le.replace("+", "\\+")}"\\} (\\d+)`).exec(rendered)?.[1]);
  t.is(bucket('+Inf'), 1, 'one fragment');
  t.is(bucket('0.05'), 0, 'not under 50 ms: the 80 ms its bytes waited are counted');
});
