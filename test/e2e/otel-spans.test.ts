// OpenTelemetry spans (issue 24, item 7): a collector on loopback receives, over OTLP/HTTP, one
// span per governed request after the GenAI conventions, in the caller's trace.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import OpenAI from 'openai';
import { eventually, startHarness, type Harness } from '../helpers/harness.js';

type Attr = { key: string; value: { stringValue?: string; intValue?: string } };
type Span = { traceId: string; spanId: string; parentSpanId?: string; name: string; attributes: Attr[]; status: { code: number; message?: string }; startTimeUnixNano: string; endTimeUnixNano: string };

const received: { spans: Span[]; service: string }[] = [];
let collector: Server;
let h: Harness;

test.before(async () => {
  collector = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      const doc = JSON.parse(body) as { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: Span[] }[] }[] };
      for (const rs of doc.resourceSpans) {
        const service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '';
        for (const ss of rs.scopeSpans) received.push({ spans: ss.spans, service });
      }
      res.writeHead(req.url === '/v1/traces' && req.headers['content-type'] === 'application/json' ? 200 : 404).end('{}');
    });
  });
  collector.listen(0, '127.0.0.1');
  await new Promise((r) => collector.once('listening', r));
  h = await startHarness({ ALTRACE_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces` });
});
test.after.always(async () => {
  await h?.close();
  collector?.close();
});

const attr = (s: Span, key: string) => s.attributes.find((a) => a.key === key)?.value;
const all = () => received.flatMap((r) => r.spans);

test.serial('a chat joins the caller\'s trace as a span with the GenAI attributes; a refusal is an error span naming its reason', async (t) => {
  const { key } = await h.createKey({ agent: 'tracer', team: 'obs', models: ['gpt-4o-mini'] });
  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const client = new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0, defaultHeaders: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  await client.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'hi' }] }).catch(() => undefined);
  await eventually(() => all().filter((s) => s.traceId === traceId).length === 2, 5000, 'both spans at the collector');
  const [ok, refused] = all().filter((s) => s.traceId === traceId).sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano)));
  t.is(ok!.parentSpanId, '00f067aa0ba902b7');
  t.regex(ok!.spanId, /^[0-9a-f]{16}$/);
  t.is(ok!.name, 'chat gpt-4o-mini');
  t.is(attr(ok!, 'gen_ai.operation.name')?.stringValue, 'chat');
  t.is(attr(ok!, 'gen_ai.request.model')?.stringValue, 'gpt-4o-mini');
  t.is(attr(ok!, 'gen_ai.agent.name')?.stringValue, 'tracer');
  t.true(Number(attr(ok!, 'gen_ai.usage.input_tokens')?.intValue) > 0);
  t.true(BigInt(ok!.endTimeUnixNano) > BigInt(ok!.startTimeUnixNano));
  t.is(ok!.status.code, 0);
  t.is(refused!.status.code, 2);
  t.is(refused!.status.message, 'ALT_MODEL_NOT_ALLOWED');
  t.is(attr(refused!, 'altrace.stage')?.stringValue, 'model-scope');
  t.is(received[0]!.service, 'altrace');
});

test.serial('without a traceparent a request starts its own trace', async (t) => {
  const { key } = await h.createKey({ agent: 'loner', team: 'obs' });
  await new OpenAI({ apiKey: key, baseURL: `${h.proxyUrl}/v1`, maxRetries: 0 }).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
  await eventually(() => all().some((s) => attr(s, 'gen_ai.agent.name')?.stringValue === 'loner'), 5000, 'the span at the collector');
  const span = all().find((s) => attr(s, 'gen_ai.agent.name')?.stringValue === 'loner')!;
  t.regex(span.traceId, /^[0-9a-f]{32}$/);
  t.is(span.parentSpanId, undefined);
});
