import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { bounded, MAX_RECORDED_DETAIL, MAX_RECORDED_NAME } from '../core/bounded.js';
import { reasonInfo, type ReasonCode } from '../core/reasons.js';
import { killVerdict } from '../chain/stages/kill-switch.js';
import { ALLOWED, block, type Verdict } from '../core/verdict.js';
import { evidenceOf, type EvidenceLedger } from '../contracts/evidence.js';
import type { KillSwitches } from '../enforcement/kill-switches.js';
import type { AuthFailures } from '../identity/auth-failures.js';
import { presentedCredential } from '../identity/presented.js';
import type { KeyRegistry, VirtualKey } from '../identity/keys.js';
import type { ProxyMetrics } from '../metrics.js';
import type { PolicyHolder } from '../policy/policy.js';
import type { DecisionRecord } from './decision-record.js';
import { parseJson, readBody, type ReadBody } from './body.js';
import { formatMs, hintOf } from './reply.js';
import { retrySignal } from './retry-signal.js';

export const EVIDENCE_PATH = '/altrace/v1/evidence';
const MAX_BODY = 64 * 1024;
const MAX_ITEMS = 64;
/** The key-identity stage's id: a refused key is refused by the same stage as on the provider paths. */
const IDENTITY = 'key-identity';
const STAGE = 'evidence';

export interface EvidenceSubmissionDeps {
  keys: KeyRegistry;
  kills: KillSwitches;
  policy: PolicyHolder;
  ledger: EvidenceLedger;
  /** limits.max_json_depth, as on the provider paths. */
  maxJsonDepth: number;
  /** The provider paths' failed-key counter: guessing keys here costs the same as there. */
  authFailures?: AuthFailures;
  metrics?: ProxyMetrics;
  /** The audit log: each submission is a decision record, as each provider request is. */
  onDecision?: (d: DecisionRecord) => void;
}

/** A refusal of this endpoint: a verdict, and the field at fault. */
type Refusal = Verdict & { field?: string };

const refusal = (stage: string, reason: ReasonCode, detail: string, field?: string): Refusal => ({ ...block(stage, reason, detail), ...(field ? { field } : {}) });

/** A submission as read off the connection: what the answer is decided from, on this loop or the main one. */
export interface EvidenceRequest {
  method: string;
  headers: IncomingHttpHeaders;
  /** The client's address: failed keys are counted and throttled per source. */
  source: string;
  read: ReadBody;
}

/** The answer to a submission, to be written as it is. */
export interface EvidenceAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Decides a submission where the evidence ledger is: this loop's, or the main loop's for a loop thread. */
export type EvidenceAnswering = (r: EvidenceRequest) => Promise<EvidenceAnswer>;

/**
 * `POST /altrace/v1/evidence`: an agent's SDK reports tools that returned outside the
 * conversation the proxy sees (a lookup done by code, not by the model), for the evidence
 * rules of its contracts. Authenticated by the agent's virtual key, recorded for its own run
 * only, and like every evidence kept as digests of the bound arguments, never their values.
 * Body: {"run": "...", "evidence": [{"tool": "lookup_order", "arguments": {...}}]}.
 *
 * Refused like every other request: a JSON error with the reason code, the x-altrace-* and retry
 * headers, failed keys counted per source and throttled with the provider paths, and a decision
 * record in the audit log. Never rejects: a failure is answered, or the connection is closed when
 * the client is gone.
 */
export async function submitEvidence(req: IncomingMessage, res: ServerResponse, answering: EvidenceAnswering): Promise<void> {
  let a: EvidenceAnswer;
  // Whether the body was read to its end when reading stopped (not when the answer is ready: the rest may have streamed by since).
  let complete = false;
  try {
    // Read before any answer: a reply sent while the body still arrives is followed by the
    // listener's own 408 when that body stalls.
    const declared = Number(req.headers['content-length'] ?? NaN);
    const read = await readBody(req, MAX_BODY, Number.isFinite(declared) ? declared : null);
    complete = req.complete;
    a = await answering({ method: req.method ?? 'GET', headers: req.headers, source: req.socket.remoteAddress ?? '', read });
  } catch {
    // readBody rejects only when the client went away mid-body: nobody is left to answer.
    if (!req.socket?.writable || res.headersSent) return void res.destroy();
    a = evidenceFailure();
  }
  const headers: Record<string, string> = { ...a.headers, 'content-length': String(Buffer.byteLength(a.body)) };
  // What is left of an unread body would be read as the next request.
  if (!complete || !req.complete) headers.connection = 'close';
  res.writeHead(a.status, headers);
  res.end(a.body);
}

/** The answer when a submission could not be decided at all (fail closed: nothing was recorded). */
export function evidenceFailure(): EvidenceAnswer {
  const r = refusal(STAGE, 'ALT_STAGE_FAILED', 'the evidence could not be recorded');
  return { status: reasonInfo(r.reason).status, headers: { 'content-type': 'application/json', 'x-altrace-reason': r.reason, 'x-altrace-stage': r.stage }, body: JSON.stringify({ error: { code: r.reason, message: r.detail } }) };
}

/** The answer to a submission, its decision recorded: what submitEvidence writes. */
export async function answerEvidence(r: EvidenceRequest, d: EvidenceSubmissionDeps, now: () => number = Date.now): Promise<EvidenceAnswer> {
  const id = randomUUID();
  const started = performance.now();
  let key: VirtualKey | null = null;
  let run: unknown = undefined;
  const answer = (status: number, v: Verdict, body: unknown): EvidenceAnswer => {
    d.metrics?.countRequest('altrace', v.outcome, v.reason);
    d.onDecision?.(decision(id, now(), key, v, status, run));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-altrace-request-id': id, 'x-altrace-overhead-ms': formatMs(performance.now() - started) };
    if (v.outcome !== 'allow') Object.assign(headers, retrySignal(v, {}).headers, { 'x-altrace-reason': v.reason, 'x-altrace-stage': v.stage });
    return { status, headers, body: JSON.stringify(body) };
  };
  const refuse = (f: Refusal): EvidenceAnswer => {
    const hint = hintOf(f);
    return answer(reasonInfo(f.reason).status, f, { error: { code: f.reason, message: f.detail, ...(f.field ? { field: f.field } : {}), altrace: { request_id: id, stage: f.stage, reason: f.reason, hint } } });
  };
  const outcome = evaluate(r, d, now, (k) => (key = k), (x) => (run = x));
  if ('reason' in outcome) return refuse(outcome);
  return answer(200, ALLOWED, outcome);
}

/** Decides a submission: what to record, or the refusal. */
function evaluate(r: EvidenceRequest, d: EvidenceSubmissionDeps, now: () => number, identified: (k: VirtualKey) => void, ran: (run: unknown) => void): Refusal | { recorded: number; ignored: number } {
  const { read, source } = r;
  if (r.method !== 'POST') return refusal('ingress-limits', 'ALT_METHOD_NOT_ALLOWED', `use POST on ${EVIDENCE_PATH}`);
  const wait = d.authFailures?.watching ? d.authFailures.retryAfterMs(source) : 0;
  if (wait > 0) {
    d.metrics?.authFailures.inc({ port: 'proxy_throttled' });
    return { ...refusal(IDENTITY, 'ALT_AUTH_THROTTLED', 'source over the failed-key limit'), retryAfterMs: wait };
  }
  const secret = presentedCredential(r.headers, new URLSearchParams()).virtual;
  if (secret === null) return refusal(IDENTITY, 'ALT_KEY_MISSING', 'present a virtual key (Authorization: Bearer alt-...)');
  const key = d.keys.findBySecret(secret);
  if (!key) {
    d.authFailures?.fail(source);
    d.metrics?.authFailures.inc({ port: 'proxy' });
    return refusal(IDENTITY, 'ALT_KEY_UNKNOWN', 'present a valid virtual key (Authorization: Bearer alt-...)');
  }
  identified(key);
  if (key.revokedAt !== null) return refusal(IDENTITY, 'ALT_KEY_REVOKED', `key ${key.id} is revoked`);
  if (key.expiresAt !== null && key.expiresAt <= now()) return refusal(IDENTITY, 'ALT_KEY_EXPIRED', `key ${key.id} has expired`);
  const killed = d.kills.stopping({ agent: key.agent, team: key.team });
  if (killed) return killVerdict(killed);
  if (read.tooLarge) return refusal('ingress-limits', 'ALT_BODY_TOO_LARGE', `the body exceeds ${MAX_BODY} bytes`, '(body)');
  const parsed = parseJson(read.bytes, d.maxJsonDepth);
  if (parsed.error !== null) return refusal('ingress-limits', parsed.tooDeep ? 'ALT_JSON_TOO_DEEP' : 'ALT_MALFORMED_JSON', parsed.error, '(body)');
  const b = parsed.value as { run?: unknown; evidence?: unknown };
  if (typeof b !== 'object' || b === null) return refusal(STAGE, 'ALT_INVALID_REQUEST', 'the body must be a JSON object', '(body)');
  ran(b.run);
  if (typeof b.run !== 'string' || b.run === '' || b.run.length > 200) return refusal(STAGE, 'ALT_INVALID_REQUEST', 'run must be the x-altrace-run id (1–200 characters)', 'run');
  if (!Array.isArray(b.evidence) || b.evidence.length === 0 || b.evidence.length > MAX_ITEMS) {
    return refusal(STAGE, 'ALT_INVALID_REQUEST', `evidence must be a list of 1 to ${MAX_ITEMS} {tool, arguments}`, 'evidence');
  }
  const paths = d.policy.current.contracts.evidencePaths;
  const items = [];
  for (const [i, e] of (b.evidence as unknown[]).entries()) {
    const item = e as { tool?: unknown; arguments?: unknown };
    if (typeof item !== 'object' || item === null || typeof item.tool !== 'string' || item.tool === '') {
      return refusal(STAGE, 'ALT_INVALID_REQUEST', 'each item needs a tool name', `evidence.${i}.tool`);
    }
    // Only what some evidence rule could ask for is kept.
    const want = paths.get(item.tool);
    if (want) items.push(evidenceOf(item.tool, item.arguments, want));
  }
  d.ledger.record(key.agent, b.run, items, now());
  return { recorded: items.length, ignored: b.evidence.length - items.length };
}

/** The audit record of a submission; what the client sent is bounded before it is recorded. */
function decision(requestId: string, time: number, key: VirtualKey | null, v: Verdict, status: number, run: unknown): DecisionRecord {
  return {
    requestId,
    time,
    durationMs: 0,
    traceparent: null,
    tools: [],
    principal: key ? { keyId: key.id, agent: key.agent, team: key.team, costCenter: key.costCenter } : null,
    provider: 'altrace',
    upstream: null,
    operation: 'evidence',
    model: null,
    stream: false,
    outcome: v.outcome,
    reason: v.reason,
    stage: v.outcome === 'allow' ? null : v.stage,
    detail: bounded(v.detail, MAX_RECORDED_DETAIL) ?? null,
    status,
    warnings: [],
    costUsd: null,
    inputTokens: null,
    outputTokens: null,
    fn: null,
    run: typeof run === 'string' ? (bounded(run, MAX_RECORDED_NAME) ?? null) : null,
    fragments: 0,
    labels: [],
    rules: [],
    contracts: [],
    origin: null,
  };
}
