import { bounded, MAX_RECORDED_DETAIL, MAX_RECORDED_NAME } from '../core/bounded.js';
import type { CallView } from '../core/call-view.js';
import type { Verdict } from '../core/verdict.js';
import type { DecisionFields } from '../decision-line.js';
import type { PodRef } from '../identity/pod.js';
import { ORIGIN, type OriginSocket } from '../listen/transparent.js';
import { mcpOperation } from '../providers/mcp/parse.js';
import { nowMs, type Exchange } from './exchange.js';

/** One decision as the audit log records it: who, what, which stage and reason, what it cost. Never content, never a key. */
export interface DecisionRecord {
  requestId: string;
  time: number;
  /** How long the request was in the proxy, ms (its span's length). */
  durationMs: number;
  /** The caller's W3C traceparent, when it sent one (the span joins its trace). */
  traceparent: string | null;
  /** Names of the tools the request calls (MCP tools/call, the model's tool results), bounded. */
  tools: readonly string[];
  principal: { keyId: string; agent: string; team: string; costCenter: string | null; pod?: PodRef | null } | null;
  provider: string;
  upstream: string | null;
  operation: string | null;
  model: string | null;
  stream: boolean;
  outcome: string;
  reason: string;
  stage: string | null;
  detail: string | null;
  status: number;
  warnings: readonly string[];
  costUsd: number | null;
  inputTokens: number | null;
  outputTokens: number | null;
  fn: string | null;
  run: string | null;
  fragments: number;
  /** Data-classification labels of the request and response, and the detector rule ids behind them. */
  labels: readonly string[];
  rules: readonly string[];
  /** The behavioral contracts that governed the request, as name@version. */
  contracts: readonly string[];
  /** For a connection the kernel redirected here: where it was going and the cgroup that made it. */
  origin: { address: string; port: number; cgroupId: bigint; peer: string } | null;
}

/** Most decisions carry no warnings, labels, rules or contracts: one shared empty list. */
const NONE: readonly string[] = Object.freeze([]);

/** What an exchange ended as, read from its phases once for the counter, the audit record and the log line. */
export interface Summary {
  verdict: Verdict | null;
  call: CallView | null;
  provider: string;
  outcome: string;
  reason: string;
  operation: string | null;
  warnings: readonly string[];
  labels: readonly string[];
  contracts: readonly string[];
  /** What the request controls, bounded before it is recorded (core/bounded.ts). */
  model: string | null | undefined;
  upstream: string | null | undefined;
  detail: string | null | undefined;
}

export function summarize(x: Exchange): Summary {
  const verdict = x.response.verdict ?? x.decision.verdict;
  const ctx = x.decision.ctx;
  const call = ctx?.call ?? null;
  const content = ctx?.content;
  return {
    verdict,
    call,
    provider: call?.provider ?? x.decision.match?.adapter.kind ?? 'none',
    outcome: x.clientGone ? 'client_closed' : (verdict?.outcome ?? 'allow'),
    reason: verdict?.reason ?? 'ALT_ALLOWED',
    operation: call?.mcp ? mcpOperation(call) : (call?.operation ?? x.decision.match?.operation ?? null),
    warnings: ctx?.notes.length ? ctx.notes.map((n) => n.reason) : NONE,
    labels: content?.labels.size ? [...content.labels] : NONE,
    contracts: ctx?.contracts?.length ? ctx.contracts.map((c) => c.ref) : (ctx?.contractRefs ?? NONE),
    model: bounded(call?.model, MAX_RECORDED_NAME),
    upstream: bounded(call?.upstream, MAX_RECORDED_NAME),
    detail: bounded(verdict?.detail ?? warningDetails(ctx?.notes), MAX_RECORDED_DETAIL),
  };
}

/**
 * An exchange that was let through with warnings has no verdict detail of its own; what the
 * warnings name (a flagged tool and what was found in it) is then its detail, so that the audit
 * record says which tool, not only the warning's code. Details are content-free by contract.
 */
function warningDetails(notes: readonly Verdict[] | undefined): string | undefined {
  if (!notes?.length) return undefined;
  const named = notes.filter((n) => n.detail);
  return named.length ? named.map((n) => `${n.reason}: ${n.detail}`).join('; ') : undefined;
}

function originOf(x: Exchange): DecisionRecord['origin'] {
  const o = (x.req.socket as OriginSocket | undefined)?.[ORIGIN];
  return o ? { address: o.address, port: o.port, cgroupId: o.cgroupId, peer: o.peer } : null;
}

/** The audit log's record of an exchange. */
export function decisionRecord(x: Exchange, s: Summary, time: number): DecisionRecord {
  const ctx = x.decision.ctx;
  const call = s.call;
  const run = x.req.headers['x-altrace-run'];
  const traceparent = x.req.headers.traceparent;
  return {
    requestId: x.id,
    time,
    durationMs: nowMs() - x.start,
    traceparent: typeof traceparent === 'string' && traceparent.length <= 64 ? traceparent : null,
    tools: call?.toolCalls.length ? call.toolCalls.slice(0, 8).map((c) => bounded(c.name, MAX_RECORDED_NAME) ?? '') : NONE,
    principal: ctx?.principal ? { ...ctx.principal, costCenter: ctx.key?.costCenter ?? ctx.pod?.costCenter ?? null, pod: ctx.pod } : null,
    provider: s.provider,
    upstream: s.upstream ?? null,
    operation: bounded(s.operation, MAX_RECORDED_NAME),
    model: s.model ?? null,
    stream: call?.stream ?? false,
    outcome: s.outcome,
    reason: s.reason,
    stage: s.verdict?.stage ?? null,
    detail: s.detail ?? null,
    status: x.response.status,
    warnings: s.warnings,
    costUsd: x.settled?.usd ?? null,
    inputTokens: x.settled?.inputTokens ?? null,
    outputTokens: x.settled?.outputTokens ?? null,
    fn: bounded(ctx?.charge?.fn ?? null, MAX_RECORDED_NAME),
    run: typeof run === 'string' ? bounded(run, MAX_RECORDED_NAME) : null,
    fragments: x.response.fragments,
    labels: s.labels,
    rules: ctx?.content?.rules.size ? [...ctx.content.rules] : NONE,
    contracts: s.contracts,
    origin: originOf(x),
  };
}

/** The one log line of an exchange (decision-line.ts writes it). */
export function decisionFields(x: Exchange, s: Summary): DecisionFields {
  const p = x.decision.ctx?.principal;
  return {
    req_id: x.id,
    provider: s.provider,
    upstream: s.upstream,
    op: bounded(s.operation, MAX_RECORDED_NAME) ?? undefined,
    model: s.model,
    stream: s.call?.stream,
    agent: p?.agent,
    team: p?.team,
    key_id: p?.keyId,
    outcome: s.outcome,
    reason: s.reason,
    stage: s.verdict?.stage,
    detail: s.detail,
    warnings: s.warnings.length ? s.warnings : undefined,
    status: x.response.status,
    fragments: x.response.fragments || undefined,
    labels: x.decision.ctx?.content ? s.labels : undefined,
    contracts: s.contracts.length ? s.contracts : undefined,
    cost_usd: x.settled ? Number(x.settled.usd.toFixed(6)) : undefined,
    tokens_in: x.settled?.inputTokens,
    tokens_out: x.settled?.outputTokens,
    overhead_ms: Number((x.response.overheadAtHeaders ?? x.overheadMs()).toFixed(3)),
    upstream_ms: Number(x.upstreamMs.toFixed(3)),
  };
}
