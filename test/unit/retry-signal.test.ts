import test from 'ava';
import { EventEmitter } from 'node:events';
import type { OutgoingHttpHeaders } from 'node:http';
import { reasonCodes, reasons, type ReasonCode } from '../../proxy/src/core/reasons.js';
import type { RequestContext } from '../../proxy/src/chain/context.js';
import { agentLevel } from '../../proxy/src/chain/stages/agent-level.js';
import { block, type Verdict } from '../../proxy/src/core/verdict.js';
import { AgentLevels } from '../../proxy/src/enforcement/levels.js';
import { replyBlock, type Response } from '../../proxy/src/pipeline/reply.js';
import { DEFAULT_LONGEST_HONOURED_WAIT_MS } from '../../proxy/src/pipeline/retry-signal.js';
import type { ProviderAdapter } from '../../proxy/src/providers/adapter.js';
import { anthropicAdapter } from '../../proxy/src/providers/anthropic/index.js';
import { azureAdapter } from '../../proxy/src/providers/azure/index.js';
import { bedrockAdapter } from '../../proxy/src/providers/bedrock/index.js';
import { BEDROCK_LONGEST_HONOURED_WAIT_MS } from '../../proxy/src/providers/bedrock/errors.js';
import { geminiAdapter } from '../../proxy/src/providers/gemini/index.js';
import { mcpAdapter } from '../../proxy/src/providers/mcp/index.js';
import { openAiAdapter } from '../../proxy/src/providers/openai/index.js';

const ADAPTERS: ProviderAdapter[] = [openAiAdapter(() => 'openai'), anthropicAdapter(), azureAdapter(), geminiAdapter(), bedrockAdapter(), mcpAdapter()];
const openai = ADAPTERS[0]!;
const bedrock = bedrockAdapter();
const gemini = geminiAdapter();

interface Sent {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A response that keeps what replyBlock wrote. */
function capture(): { res: Response; sent: Sent } {
  const sent: Sent = { status: 0, headers: {}, body: '' };
  const res = Object.assign(new EventEmitter(), {
    headersSent: false,
    destroyed: false,
    writableFinished: false,
    writableEnded: false,
    writeHead(status: number, headers: OutgoingHttpHeaders) {
      sent.status = status;
      sent.headers = headers as Record<string, string>;
    },
    write: () => true,
    end(chunk?: string | Uint8Array) {
      sent.body = String(chunk ?? '');
    },
    destroy() {},
  });
  return { res, sent };
}

function reply(adapter: ProviderAdapter, v: Verdict): Sent {
  const { res, sent } = capture();
  replyBlock(res, adapter, v, 'req-1', () => 0.1, false);
  return sent;
}

function laterVerdict(reason: ReasonCode, retryAfterMs: number): Verdict {
  const v = block('test', reason);
  v.retryAfterMs = retryAfterMs;
  return v;
}

const refusals = reasonCodes.filter((c) => reasons[c].status >= 400);

test('retrying immediately fixes no policy refusal: every 4xx is never or later, and later is only ever a 429', (t) => {
  for (const c of refusals) {
    if (reasons[c].status < 500) t.not(reasons[c].retry, 'transient', c);
    if (reasons[c].retry === 'later') t.is(reasons[c].status, 429, c);
  }
  t.is(reasons.ALT_CREDENTIAL_MISSING.retry, 'never');
  t.is(reasons.ALT_APPROVAL_TIMEOUT.retry, 'never', 'a retry would wait for the approval all over again');
  t.is(reasons.ALT_DELEGATION_BUDGET_EXCEEDED.retry, 'never');
  t.is(reasons.ALT_UPSTREAM_TIMEOUT.retry, 'transient');
});

test('never: every provider format says x-should-retry: false and no retry-after', (t) => {
  for (const c of refusals.filter((r) => reasons[r].retry === 'never')) {
    for (const a of ADAPTERS) {
      const sent = reply(a, block('test', c));
      t.is(sent.headers['x-should-retry'], 'false', `${c} ${a.kind}`);
      t.is(sent.headers['retry-after'], undefined, `${c} ${a.kind}`);
      t.is(sent.headers['x-altrace-reason'], c);
    }
  }
});

test('transient: nothing is said, the SDK keeps its own backoff', (t) => {
  for (const c of refusals.filter((r) => reasons[r].retry === 'transient')) {
    for (const a of ADAPTERS) {
      const sent = reply(a, block('test', c));
      t.is(sent.headers['x-should-retry'], undefined, `${c} ${a.kind}`);
      t.is(sent.headers['retry-after'], undefined, `${c} ${a.kind}`);
      t.is(sent.status, reasons[c].status, `${c} ${a.kind} keeps its status`);
    }
  }
});

test('later: retry-after in whole seconds rounded up, retry-after-ms, and x-should-retry: true within what the SDK waits', (t) => {
  for (const c of refusals.filter((r) => reasons[r].retry === 'later')) {
    const sent = reply(openai, laterVerdict(c, 1_200.4));
    t.is(sent.status, 429);
    t.is(sent.headers['retry-after'], '2', c);
    t.is(sent.headers['retry-after-ms'], '1201', c);
    t.is(sent.headers['x-should-retry'], 'true', c);
  }
});

test('later, but longer than the SDK waits: retry-after says when, x-should-retry: false says not to wait inside the SDK', (t) => {
  const hours = reply(openai, laterVerdict('ALT_BUDGET_EXCEEDED', 5 * 3600_000));
  t.is(hours.headers['retry-after'], String(5 * 3600));
  t.is(hours.headers['x-should-retry'], 'false');
  t.is(reply(openai, laterVerdict('ALT_CONTRACT_RATE_LIMITED', DEFAULT_LONGEST_HONOURED_WAIT_MS)).headers['x-should-retry'], 'true');
  t.is(reply(openai, laterVerdict('ALT_CONTRACT_RATE_LIMITED', DEFAULT_LONGEST_HONOURED_WAIT_MS + 1)).headers['x-should-retry'], 'false');
});

test('later without a stated wait is treated as never: no SDK should guess', (t) => {
  const sent = reply(openai, block('test', 'ALT_AGENT_THROTTLED'));
  t.is(sent.headers['x-should-retry'], 'false');
  t.is(sent.headers['retry-after'], undefined);
});

test('Bedrock: a refusal the AWS SDK must not retry leaves the statuses it retries by (429, 5xx) for its non-retryable exceptions', (t) => {
  const cases: [Verdict, number, string][] = [
    [block('budget', 'ALT_DELEGATION_BUDGET_EXCEEDED'), 400, 'ServiceQuotaExceededException'],
    [laterVerdict('ALT_BUDGET_EXCEEDED', 3600_000), 400, 'ServiceQuotaExceededException'],
    [laterVerdict('ALT_CONTRACT_RATE_LIMITED', BEDROCK_LONGEST_HONOURED_WAIT_MS + 1), 400, 'ServiceQuotaExceededException'],
    [block('credential-lane', 'ALT_CREDENTIAL_MISSING'), 403, 'AccessDeniedException'],
    [block('upstream', 'ALT_RESPONSE_TOO_LARGE'), 424, 'ModelErrorException'],
    [block('approval', 'ALT_APPROVAL_TIMEOUT'), 408, 'ModelTimeoutException'],
    [block('model-scope', 'ALT_MODEL_NOT_ALLOWED'), 403, 'AccessDeniedException'],
    // retryable ones keep their status and the exception the SDK retries
    [laterVerdict('ALT_CONTRACT_RATE_LIMITED', BEDROCK_LONGEST_HONOURED_WAIT_MS), 429, 'ThrottlingException'],
    [block('upstream', 'ALT_UPSTREAM_UNREACHABLE'), 502, 'ServiceUnavailableException'],
    [block('chain', 'ALT_STAGE_TIMEOUT'), 503, 'ServiceUnavailableException'],
  ];
  for (const [v, status, exception] of cases) {
    const sent = reply(bedrock, v);
    t.is(sent.status, status, v.reason);
    t.is(sent.headers['x-amzn-errortype'], exception, v.reason);
    t.is(JSON.parse(sent.body).altrace.reason, v.reason);
  }
});

test('Gemini: a refusal that can succeed later says when in google.rpc.RetryInfo', (t) => {
  const details = (s: Sent) => JSON.parse(s.body).error.details as { '@type': string; retryDelay?: string }[];
  const later = details(reply(gemini, laterVerdict('ALT_CONTRACT_RATE_LIMITED', 1_500)));
  t.deepEqual(later.find((d) => d['@type'].endsWith('RetryInfo')), { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '2s' });
  t.false(details(reply(gemini, block('test', 'ALT_KILLED_AGENT'))).some((d) => d['@type'].endsWith('RetryInfo')));
});

test('throttle level: the refusal carries the wait its token bucket states, and a request after that wait is admitted', (t) => {
  const levels = new AgentLevels();
  levels.throttlePerSecond = 3;
  levels.set({ agent: 'slow', level: 'throttle', setBy: 'operator:test', reason: null, since: 0 });
  let now = 1_000;
  const stage = agentLevel(levels, () => now);
  const ctx = { principal: { keyId: 'k', agent: 'slow', team: 't' }, call: null } as unknown as RequestContext;
  for (let i = 0; i < 3; i++) t.is((stage.evaluate(ctx) as Verdict).outcome, 'warn', 'the bucket starts full');
  now += 100;
  const refused = stage.evaluate(ctx) as Verdict;
  t.is(refused.outcome, 'throttle');
  t.is(refused.retryAfterMs, 234, 'a third of a second per request, less the 100 ms that refilled');
  now += refused.retryAfterMs!;
  t.is((stage.evaluate(ctx) as Verdict).outcome, 'warn');
});
