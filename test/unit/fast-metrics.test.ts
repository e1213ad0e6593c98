import test from 'ava';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from '../../proxy/src/fast-metrics.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const SAMPLES: Array<[number, string]> = [
  [0.0005, 'openai'],
  [0.001, 'openai'],
  [0.02, 'openai'],
  [5, 'openai'],
  [0.3, 'anthropic'],
  [0.001, 'anthropic'],
];

// The fast metrics must scrape exactly as prom-client's own would for the same observations.
test('a fast histogram renders the same exposition as prom-client’s histogram', async (t) => {
  const fastRegistry = new Registry();
  const fast = new FastHistogram('h_seconds', 'help text', BOUNDS, 'provider', fastRegistry);
  const refRegistry = new Registry();
  const ref = new Histogram({ name: 'h_seconds', help: 'help text', buckets: BOUNDS, labelNames: ['provider'], registers: [refRegistry] });
  for (const [v, p] of SAMPLES) {
    fast.observe(v, p);
    ref.observe({ provider: p }, v);
  }
  t.is(await fastRegistry.metrics(), await refRegistry.metrics());
  t.regex(await fastRegistry.metrics(), /h_seconds_bucket\{le="\+Inf",provider="openai"\} 4/);
});

test('a fast histogram without labels, observed through a kept cell', async (t) => {
  const fastRegistry = new Registry();
  const fast = new FastHistogram('f_seconds', 'h', BOUNDS, null, fastRegistry);
  const refRegistry = new Registry();
  const ref = new Histogram({ name: 'f_seconds', help: 'h', buckets: BOUNDS, registers: [refRegistry] });
  const cell = fast.cell();
  for (const [v] of SAMPLES) {
    cell.observe(v);
    ref.observe(v);
  }
  t.is(await fastRegistry.metrics(), await refRegistry.metrics());
});

test('a fast counter renders the same exposition as prom-client’s counter, and resets', async (t) => {
  const fastRegistry = new Registry();
  const fast = new FastCounter('c_total', 'h', ['provider', 'outcome'], fastRegistry);
  const refRegistry = new Registry();
  const ref = new Counter({ name: 'c_total', help: 'h', labelNames: ['provider', 'outcome'], registers: [refRegistry] });
  for (const [p, o] of [['openai', 'allow'], ['openai', 'allow'], ['gemini', 'block']] as const) {
    fast.inc(p, o);
    ref.inc({ provider: p, outcome: o });
  }
  t.is(await fastRegistry.metrics(), await refRegistry.metrics());
  fastRegistry.resetMetrics();
  t.notRegex(await fastRegistry.metrics(), /c_total\{/);
});
