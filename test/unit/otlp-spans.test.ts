// The span exporter alone: a collector that is down loses spans, counted and logged, never more
// than the queue's bound; a traceparent that is not one starts a trace of its own.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import { createLogger, type DecisionRecord } from '../../proxy/src/index.js';
import { OtlpSpans } from '../../agent/src/telemetry/otlp-spans.js';

const decision = (over: Partial<DecisionRecord> = {}): DecisionRecord => ({
  requestId: 'r1', time: Date.now(), durationMs: 2, traceparent: null, tools: [], principal: null, provider: 'mcp', upstream: 'mcp:tools', operation: 'mcp', model: null,
  stream: false, outcome: 'allow', reason: 'ALT_ALLOWED', stage: null, detail: null, status: 200, warnings: [], costUsd: null, inputTokens: null, outputTokens: null,
  fn: null, run: null, fragments: 0, labels: [], rules: [], contracts: [], origin: null, ...over,
});

test('a collector that is down loses the batch (counted); the queue never holds more than its bound', async (t) => {
  const spans = new OtlpSpans({ endpoint: 'http://127.0.0.1:9/v1/traces', headers: {}, serviceName: 's', logger: createLogger('silent') });
  for (let i = 0; i < 10_050; i++) spans.record(decision());
  t.is(spans.dropped, 50, 'past 10,000 queued, spans are dropped at once');
  await spans.flush();
  t.is(spans.dropped, 10_050);
  t.is(spans.exported, 0);
  await spans.close();
});

test('an MCP tool call is an execute_tool span; a malformed traceparent starts a trace of its own; headers reach the collector', async (t) => {
  const got: { body: string; key: string | undefined }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      got.push({ body, key: req.headers['x-api-key'] as string | undefined });
      res.end('{}');
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  try {
    const spans = new OtlpSpans({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, headers: { 'x-api-key': 'collector-key' }, serviceName: 's', logger: createLogger('silent') });
    spans.record(decision({ tools: ['lookup_order'], traceparent: '00-not-a-trace-id-01' }));
    await spans.close();
    t.is(spans.exported, 1);
    t.is(got[0]!.key, 'collector-key');
    const span = (JSON.parse(got[0]!.body) as { resourceSpans: { scopeSpans: { spans: { name: string; traceId: string; parentSpanId?: string; attributes: { key: string; value: { stringValue?: string } }[] }[] }[] }[] }).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    t.is(span.name, 'execute_tool');
    t.is(span.attributes.find((a) => a.key === 'gen_ai.tool.name')?.value.stringValue, 'lookup_order');
    t.regex(span.traceId, /^[0-9a-f]{32}$/);
    t.is(span.parentSpanId, undefined);
  } finally {
    server.close();
  }
});
