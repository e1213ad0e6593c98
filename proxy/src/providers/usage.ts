// Where each provider puts its token counts, read into the one shape of core/usage.ts.
import type { AwsEvent } from '../stream/aws-event-stream.js';
import { isRecord, num } from './adapter.js';
import { invokeInner } from './bedrock/stream.js';
import type { ReportedUsage } from '../core/usage.js';

function set(out: ReportedUsage, field: keyof ReportedUsage, v: number | null): void {
  if (v !== null) out[field] = v;
}

function nonEmpty(u: ReportedUsage): ReportedUsage | null {
  return u.input === undefined && u.output === undefined && u.cachedInput === undefined ? null : u;
}

/** Chat Completions `usage`, Responses `usage` (also inside `response.completed`), embeddings. */
export function openaiUsage(data: unknown): ReportedUsage | null {
  if (!isRecord(data)) return null;
  const u = isRecord(data.usage) ? data.usage : isRecord(data.response) && isRecord(data.response.usage) ? data.response.usage : null;
  if (!u) return null;
  const out: ReportedUsage = {};
  set(out, 'input', num(u.prompt_tokens) ?? num(u.input_tokens));
  set(out, 'output', num(u.completion_tokens) ?? num(u.output_tokens) ?? (num(u.prompt_tokens) !== null ? 0 : null));
  const details = isRecord(u.prompt_tokens_details) ? u.prompt_tokens_details : isRecord(u.input_tokens_details) ? u.input_tokens_details : null;
  if (details) set(out, 'cachedInput', num(details.cached_tokens));
  return nonEmpty(out);
}

function anthropicCounts(u: Record<string, unknown>): ReportedUsage {
  const out: ReportedUsage = {};
  const input = num(u.input_tokens);
  const read = num(u.cache_read_input_tokens) ?? 0;
  const created = num(u.cache_creation_input_tokens) ?? 0;
  // Anthropic counts cache reads and writes apart from input_tokens; the bill includes all three.
  if (input !== null) out.input = input + read + created;
  if (input !== null || read > 0) out.cachedInput = read;
  set(out, 'output', num(u.output_tokens));
  return out;
}

/** Anthropic message bodies and stream events (message_start carries input, message_delta output). */
export function anthropicUsage(data: unknown): ReportedUsage | null {
  if (!isRecord(data)) return null;
  if (isRecord(data.message) && isRecord(data.message.usage)) return nonEmpty(anthropicCounts(data.message.usage));
  if (isRecord(data.usage)) return nonEmpty(anthropicCounts(data.usage));
  return null;
}

/** Gemini `usageMetadata`; thinking tokens are billed as output. */
export function geminiUsage(data: unknown): ReportedUsage | null {
  if (!isRecord(data) || !isRecord(data.usageMetadata)) return null;
  const u = data.usageMetadata;
  const out: ReportedUsage = {};
  set(out, 'input', num(u.promptTokenCount));
  const candidates = num(u.candidatesTokenCount);
  const thoughts = num(u.thoughtsTokenCount) ?? 0;
  if (candidates !== null || thoughts > 0) out.output = (candidates ?? 0) + thoughts;
  set(out, 'cachedInput', num(u.cachedContentTokenCount));
  return nonEmpty(out);
}

/** Bedrock Converse `usage` (whole body, or the stream's metadata event payload). */
export function converseUsage(data: unknown): ReportedUsage | null {
  if (!isRecord(data) || !isRecord(data.usage)) return null;
  const u = data.usage;
  const out: ReportedUsage = {};
  const read = num(u.cacheReadInputTokens) ?? 0;
  const write = num(u.cacheWriteInputTokens) ?? 0;
  const input = num(u.inputTokens);
  if (input !== null) out.input = input + read + write;
  if (read > 0) out.cachedInput = read;
  set(out, 'output', num(u.outputTokens));
  return nonEmpty(out);
}

/** Bedrock InvokeModel bodies: the model's native usage, or Bedrock's invocation metrics. */
export function invokeUsage(data: unknown): ReportedUsage | null {
  if (!isRecord(data)) return null;
  const metrics = data['amazon-bedrock-invocationMetrics'];
  if (isRecord(metrics)) {
    const out: ReportedUsage = {};
    set(out, 'input', num(metrics.inputTokenCount));
    set(out, 'output', num(metrics.outputTokenCount));
    return nonEmpty(out);
  }
  return anthropicUsage(data);
}

function awsJson(bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return null;
  }
}

export function converseEventUsage(e: AwsEvent): ReportedUsage | null {
  return e.messageType === 'event' && e.eventType === 'metadata' ? converseUsage(awsJson(e.payload)) : null;
}

export function invokeChunkUsage(e: AwsEvent): ReportedUsage | null {
  return invokeUsage(invokeInner(e));
}
