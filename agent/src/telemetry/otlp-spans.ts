// One OpenTelemetry span per governed request, after the GenAI semantic conventions
// (gen_ai.operation.name, gen_ai.request.model, gen_ai.usage.*, gen_ai.agent.name,
// gen_ai.tool.name), joined to the caller's trace when it sent a W3C traceparent, exported in
// batches over OTLP/HTTP (JSON). Off unless telemetry.otlp_endpoint is set. On the request path
// only `record` runs: it makes the ids and queues the decision; spans are built and sent on a timer.
import { randomFillSync } from 'node:crypto';
import type { DecisionRecord, Logger } from '../../../proxy/src/index.js';

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const FLUSH_MS = 1_000;
const BATCH = 512;
/** Spans waiting beyond this are dropped (counted): a receiver that is down never grows memory without end. */
const MAX_QUEUED = 10_000;

// Trace and span ids from a pool refilled a few kilobytes at a time: one randomBytes call per id
// costs tens of microseconds on some machines, a slice of the pool about one.
const POOL = Buffer.alloc(8192);
let poolAt = POOL.length;
function randomHex(bytes: number): string {
  if (poolAt + bytes > POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const hex = POOL.toString('hex', poolAt, poolAt + bytes);
  poolAt += bytes;
  return hex;
}

type AttributeValue = { stringValue: string } | { intValue: string } | { doubleValue: number } | { boolValue: boolean };

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: AttributeValue }[];
  status: { code: number; message?: string };
}

interface Queued {
  d: DecisionRecord;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
}

/** The OTLP span of a queued decision, after the GenAI semantic conventions. */
function toSpan({ d, traceId, spanId, parentSpanId }: Queued): Span {
  const op = genAiOperation(d);
  const endNs = BigInt(Math.round(d.time * 1e6));
  const startNs = endNs - BigInt(Math.round(d.durationMs * 1e6));
  const refused = d.outcome !== 'allow' && d.outcome !== 'warn';
  return {
    traceId,
    spanId,
    ...(parentSpanId ? { parentSpanId } : {}),
    name: d.model ? `${op} ${d.model}` : op,
    kind: 3, // CLIENT: the proxy calls the provider on the agent's behalf
    startTimeUnixNano: startNs.toString(),
    endTimeUnixNano: endNs.toString(),
    attributes: [
      ...str('gen_ai.operation.name', op),
      ...str('gen_ai.system', d.provider),
      ...str('gen_ai.request.model', d.model),
      ...int('gen_ai.usage.input_tokens', d.inputTokens),
      ...int('gen_ai.usage.output_tokens', d.outputTokens),
      ...str('gen_ai.agent.name', d.principal?.agent),
      ...str('gen_ai.tool.name', d.tools[0]),
      ...str('altrace.team', d.principal?.team),
      ...str('altrace.request_id', d.requestId),
      ...str('altrace.outcome', d.outcome),
      ...str('altrace.reason', d.reason),
      ...str('altrace.stage', d.stage),
      ...int('http.response.status_code', d.status),
      ...(d.costUsd !== null ? [{ key: 'altrace.cost_usd', value: { doubleValue: d.costUsd } }] : []),
    ],
    status: refused ? { code: 2, message: d.reason } : { code: 0 },
  };
}

export interface OtlpOptions {
  endpoint: string;
  headers: Record<string, string>;
  serviceName: string;
  logger: Logger;
}

const str = (key: string, v: string | null | undefined) => (v ? [{ key, value: { stringValue: v } }] : []);
const int = (key: string, v: number | null | undefined) => (v === null || v === undefined ? [] : [{ key, value: { intValue: String(Math.round(v)) } }]);

/** The GenAI operation a provider operation is (chat, embeddings, execute_tool ...). */
function genAiOperation(d: DecisionRecord): string {
  if (d.provider === 'mcp') return d.tools.length ? 'execute_tool' : 'mcp';
  if (d.operation === 'embeddings') return 'embeddings';
  return d.operation === 'responses' ? 'chat' : (d.operation ?? 'chat');
}

export class OtlpSpans {
  #queue: Queued[] = [];
  #timer: NodeJS.Timeout;
  #sending: Promise<void> | null = null;
  dropped = 0;
  exported = 0;

  constructor(private readonly o: OtlpOptions) {
    this.#timer = setInterval(() => void this.flush(), FLUSH_MS);
    this.#timer.unref();
  }

  /**
   * The span of one decision: on the request path only its ids are made and the decision queued
   * (it is already built for the audit log); the span itself is built at export, on the timer.
   */
  record(d: DecisionRecord): void {
    if (this.#queue.length >= MAX_QUEUED) {
      this.dropped++;
      return;
    }
    const parent = d.traceparent ? TRACEPARENT.exec(d.traceparent) : null;
    this.#queue.push(parent ? { d, traceId: parent[1]!, spanId: randomHex(8), parentSpanId: parent[2]! } : { d, traceId: randomHex(16), spanId: randomHex(8) });
  }

  /**
   * Sends what is queued, a batch at a time (the event loop runs between batches); a failed
   * export drops its batch (counted) rather than retrying forever against a collector that is down.
   */
  async flush(): Promise<void> {
    if (this.#sending) return this.#sending;
    if (this.#queue.length === 0) return;
    this.#sending = (async () => {
      try {
        while (this.#queue.length > 0) await this.#send(this.#queue.splice(0, BATCH));
      } finally {
        this.#sending = null;
      }
    })();
    return this.#sending;
  }

  async #send(batch: Queued[]): Promise<void> {
    const body = JSON.stringify({
      resourceSpans: [{ resource: { attributes: str('service.name', this.o.serviceName) }, scopeSpans: [{ scope: { name: 'altrace' }, spans: batch.map(toSpan) }] }],
    });
    try {
      const res = await fetch(this.o.endpoint, { method: 'POST', headers: { 'content-type': 'application/json', ...this.o.headers }, body, signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`the collector answered ${res.status}`);
      this.exported += batch.length;
    } catch (err) {
      this.dropped += batch.length;
      this.o.logger.warn({ endpoint: this.o.endpoint, spans: batch.length, err: (err as Error).message }, 'spans could not be exported; dropped');
    }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
