// What turning OpenTelemetry spans on costs each governed request (telemetry.otlp_endpoint): the
// span built and queued in `record`, measured in process against the same decision handed to a
// no-op, in one run. The export itself runs on a timer, off the request path (not measured here).
import { createLogger, type DecisionRecord } from '../../proxy/src/index.js';
import { OtlpSpans } from '../../agent/src/telemetry/otlp-spans.js';

const decision: DecisionRecord = {
  requestId: '5b1e1c1a-0000-4000-8000-000000000000', time: Date.now(), durationMs: 1.7, traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tools: [],
  principal: { keyId: 'k_1', agent: 'refund-bot', team: 'payments', costCenter: null }, provider: 'openai', upstream: 'openai', operation: 'chat', model: 'gpt-4o-mini',
  stream: false, outcome: 'allow', reason: 'ALT_ALLOWED', stage: null, detail: null, status: 200, warnings: [], costUsd: 0.0001, inputTokens: 12, outputTokens: 30,
  fn: null, run: null, fragments: 0, labels: [], rules: [], contracts: [], origin: null,
};

// Nowhere to send: the batches fail quietly while we measure what the request path pays.
const spans = new OtlpSpans({ endpoint: 'http://127.0.0.1:9/v1/traces', headers: {}, serviceName: 'bench', logger: createLogger('silent') });
let sink = 0;
const noop = (d: DecisionRecord) => void (sink += d.status);

function perCallUs(fn: (d: DecisionRecord) => void, n: number): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(decision);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

// Warm up both, then measure in alternation; the queue is emptied between rounds (it holds at most 10,000).
const rounds: { off: number; on: number }[] = [];
for (let r = 0; r < 12; r++) {
  const off = perCallUs(noop, 5_000);
  const on = perCallUs((d) => spans.record(d), 5_000);
  if (r >= 2) rounds.push({ off, on });
  await spans.flush();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const off = median(rounds.map((r) => r.off));
const on = median(rounds.map((r) => r.on));
process.stdout.write(`OpenTelemetry spans, per governed request, in process (target: a few µs):\n  off ${off.toFixed(3)} µs, on ${on.toFixed(3)} µs: the span adds ${(on - off).toFixed(2)} µs (${sink > 0 ? 'measured' : ''})\n`);
await spans.close().catch(() => undefined);
