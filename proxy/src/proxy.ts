import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { systemClock, type Clock } from './core/clock.js';
import { Agent, type Dispatcher } from 'undici';
import type { Chain } from './chain/chain.js';
import type { Fragment } from './core/fragment.js';
import { killVerdict } from './chain/stages/kill-switch.js';
import { KillSwitches, type KillSwitch } from './enforcement/kill-switches.js';
import { LiveList } from './live-list.js';
import type { SpendAttribution } from './budget/attribution.js';
import type { BudgetLedger } from './budget/ledger.js';
import { decisionSeam, type DecisionSeam, type SeamKind } from './decider/seam.js';
import { DecisionLine } from './decision-line.js';
import type { AuthFailures } from './identity/auth-failures.js';
import type { Principal } from './identity/keys.js';
import type { WorkloadRef } from './identity/pod.js';
import { attribute } from './pipeline/attribution.js';
import { block, isStop, type Verdict } from './core/verdict.js';
import type { Logger } from './log.js';
import type { ProxyMetrics } from './metrics.js';
import type { ProviderAdapter } from './providers/adapter.js';
import type { CallView } from './core/call-view.js';
import type { Router } from './providers/routes.js';
import { ORIGIN, type OriginSocket, type TransparentOrigin } from './listen/transparent.js';
import { decisionFields, decisionRecord, summarize, type DecisionRecord } from './pipeline/decision-record.js';
import { leavesText } from './scan/leaves.js';
import { jsonDeeperThan, MAX_UPSTREAM_JSON_DEPTH } from './core/json-depth.js';
import { readBody, type ReadBody } from './pipeline/body.js';
import { ParsedUrls } from './pipeline/parsed-urls.js';
import { describeRequest, expectsBody, type DescribedRequest } from './pipeline/request-context.js';
import { answerEvidence, EVIDENCE_PATH, submitEvidence, type EvidenceAnswering, type EvidenceSubmissionDeps } from './pipeline/evidence-submission.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Exchange, nowMs, type Request } from './pipeline/exchange.js';
import { cut, relayStream } from './pipeline/relay.js';
import { formatMs, replyBlock, type Response } from './pipeline/reply.js';
import { injectCredential } from './upstream/auth.js';
import type { Credential, CredentialSource } from './upstream/credential.js';
import { callUpstream, type UpstreamReply } from './upstream/call.js';
import { upstreamFailureReason } from './upstream/failure.js';
import { downstreamHeaders, upstreamHeaders } from './upstream/headers.js';
import { upstreamUrl, type Upstream } from './upstream/upstreams.js';
import { RELAY_HEADER, RELAY_OPEN, RELAY_REPLY_PATH, type StdioRelays } from './upstream/stdio-relay.js';

export type { DecisionRecord } from './pipeline/decision-record.js';

export interface ProxyOptions {
  chain: Chain;
  router: Router;
  /** Error format for requests that match no provider route. */
  fallbackAdapter: ProviderAdapter;
  upstreams: ReadonlyMap<string, Upstream>;
  credentials: CredentialSource;
  maxBodyBytes: number;
  /** limits.max_json_depth: a body nested deeper is refused before it is parsed. */
  maxJsonDepth: number;
  maxResponseBytes: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  logger: Logger;
  metrics: ProxyMetrics;
  /** Engaging a switch ends the matching requests already in flight. */
  kills: KillSwitches;
  /** Where charged requests settle. */
  budgets: { ledger: BudgetLedger; attribution: SpendAttribution };
  /**
   * Who a transparently redirected connection's workload is (node enforcement): a request
   * without a virtual key is attributed to it, so its kill switch, level and audit apply.
   * Attribution only — unless its pod declares an agent (a Kubernetes annotation): then the
   * request is governed as that agent, and a virtual key of another agent is refused.
   */
  workloadOf?: (origin: TransparentOrigin) => WorkloadRef | null;
  /**
   * Who a connection to the explicit listener is, by its source address (Kubernetes: the pod
   * that holds that pod IP, when a pod reaches the node proxy by its base URL). The same rules
   * as workloadOf: attribution, and a declared agent governs a keyless request.
   */
  peerWorkload?: (address: string) => WorkloadRef | null;
  /** SDK-submitted evidence (POST /altrace/v1/evidence); absent: the endpoint answers 404 like any unknown path. */
  evidence?: EvidenceSubmissionDeps | EvidenceAnswering;
  /** Receives every decision once the request has ended (the audit log). Must not block. */
  onDecision?: (d: DecisionRecord) => void;
  /** The agent's clock: settlement windows and decision times. */
  now?: Clock;
  /** Unknown virtual keys per source address; a source over the limit is refused before its key is looked at. */
  authFailures?: AuthFailures;
  /** Relays of stdio MCP servers (altrace mcp wrap); absent: no upstream is reached that way. */
  relays?: StdioRelays;
  /**
   * How decisions cross to the decider (docs/scaling.md): `direct` in process (default), `copied` as
   * the multi-loop messages in one process, or a loop thread's seam to the decider on the main thread.
   */
  seam?: SeamKind | DecisionSeam;
}

const NO_CREDENTIAL: Credential = { type: 'none' };

const STREAM_TYPES = /^(text\/event-stream|application\/vnd\.amazon\.eventstream)/i;

function blockVerdict(reason: Verdict['reason'], stage: string, detail?: string): Verdict {
  return detail === undefined ? { outcome: 'block', reason, stage } : { outcome: 'block', reason, stage, detail };
}

function contentTypeOf(headers: UpstreamReply['headers']): string {
  const type = headers['content-type'];
  return typeof type === 'string' && type !== '' ? type.split(';')[0]!.trim() : 'without a content type';
}

/** Statuses that carry no body by definition. */
const BODYLESS = new Set([204, 205, 304]);

/**
 * Why a 2xx whole body is not what the request's provider format promises, or null when it is:
 * a JSON object (an MCP server: a JSON-RPC message or batch, or nothing for a notification).
 */
function unreadableSuccess(response: Extract<UpstreamReply, { kind: 'whole' }>, call: CallView, json: boolean, parsed: unknown, method: string | undefined): string | null {
  if (response.bytes.length === 0) {
    return call.mcp || BODYLESS.has(response.statusCode) || method === 'HEAD' ? null : `upstream answered ${response.statusCode} with an empty body`;
  }
  if (!json) return `upstream answered ${response.statusCode} ${contentTypeOf(response.headers)} that is not JSON`;
  if (typeof parsed === 'object' && parsed !== null && (call.mcp || !Array.isArray(parsed))) return null;
  return `upstream answered ${response.statusCode} with JSON that is not ${call.mcp ? 'a JSON-RPC message' : 'an object'}`;
}


/** The governed data plane: one handler for every provider route. */
export class GovernedProxy {
  readonly #o: ProxyOptions;
  readonly #dispatcher: Agent;
  readonly #inFlight = new LiveList<Exchange>();
  readonly #decisionLine: DecisionLine;
  readonly #targets = new ParsedUrls('http://proxy.invalid');
  readonly #now: Clock;
  readonly #seam: DecisionSeam;
  readonly #evidence: EvidenceAnswering | null;

  constructor(options: ProxyOptions) {
    this.#o = options;
    this.#now = options.now ?? systemClock;
    const evidence = options.evidence;
    this.#evidence = typeof evidence === 'function' ? evidence : evidence ? (r) => answerEvidence(r, evidence, this.#now) : null;
    this.#seam = typeof options.seam === 'object' ? options.seam : decisionSeam(options.seam ?? 'direct', options.chain, options.budgets);
    this.#decisionLine = new DecisionLine(options.logger);
    options.kills.onEngage((k) => this.#endInFlight(k));
    this.#dispatcher = new Agent({
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.headersTimeoutMs,
      bodyTimeout: options.bodyTimeoutMs,
      keepAliveTimeout: 30_000,
    });
  }

  readonly handle = (req: Request, res: Response): void => {
    if (this.#o.evidence && req.url?.startsWith(EVIDENCE_PATH) && (req.url.length === EVIDENCE_PATH.length || req.url[EVIDENCE_PATH.length] === '?')) {
      submitEvidence(req as IncomingMessage, res as ServerResponse, this.#evidence!).catch(() => (res as ServerResponse).destroy());
      return;
    }
    if (this.#o.relays && req.url?.startsWith(RELAY_REPLY_PATH)) {
      this.#o.relays.reply(req as IncomingMessage, res as ServerResponse, this.#o.maxResponseBytes).catch(() => (res as ServerResponse).destroy());
      return;
    }
    const x = new Exchange(randomUUID(), req, res, this.#o.fallbackAdapter);
    this.#o.metrics.inFlight.inc();
    const listed = this.#inFlight.add(x);
    res.once('close', () => {
      this.#inFlight.delete(listed);
      this.#o.metrics.inFlight.dec();
      if (!res.writableFinished) {
        x.clientGone = true;
        x.upstream.cancel();
      }
    });
    this.#run(x).catch((err: unknown) => this.#internalError(x, err));
  };

  async close(): Promise<void> {
    this.#o.relays?.closeAll();
    this.#seam.close?.();
    await this.#dispatcher.close();
  }

  /**
   * A kill switch was engaged: every request of the principal already past the chain ends
   * now. A stream under way gets the provider's in-stream error and closes; a request still
   * waiting on the provider is answered with the block; upstream is aborted either way.
   */
  #endInFlight(k: KillSwitch): void {
    const v = killVerdict(k);
    for (const x of this.#inFlight.values()) {
      if (x.killedBy || !x.decision.ctx || !KillSwitches.covers(k, x.decision.ctx.principal)) continue;
      x.killedBy = v;
      if (x.res.headersSent) {
        if (x.decision.match && !x.res.writableEnded) cut(x, v, this.#o.metrics);
      } else {
        // #forward, #stream and #whole see killedBy when the upstream wait ends and answer with it.
        x.upstream.cancel();
      }
    }
  }

  /**
   * The phases in order: decide (route, body, the chain's view, the chain's verdict), transport
   * (credential and upstream call), response (stream relay or whole body, through the response
   * stages), then settle and record (#finish). A phase that refuses answers the agent itself.
   */
  async #run(x: Exchange): Promise<void> {
    const described = await this.#decide(x);
    if (described) await this.#forward(x, described.call!, described.json, described.bytes);
  }

  /** Phase 1: the request decision. Returns what the provider is to get, or null when the exchange already ended (refused, or the agent gone). */
  async #decide(x: Exchange): Promise<DescribedRequest | null> {
    const { req } = x;
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = this.#targets.get(req.url ?? '/');
    } catch {
      // A target the parser let through but no URL can be made of (`//%%%/v1`, `http://[x/`).
      this.#block(x, block('listener', 'ALT_MALFORMED_HTTP', 'request target is not a URL', 'The request target is not a valid path or URL; send a path such as /v1/chat/completions.'));
      return null;
    }
    const routed = this.#o.router.route(method, url);
    const match = routed.match;
    if (match) {
      x.decision.match = match;
      x.adapter = match.adapter;
    }
    let read: ReadBody | null = null;
    if (expectsBody(routed, method)) {
      const declared = req.headers['content-length'] ? Number(req.headers['content-length']) : null;
      try {
        read = await readBody(req as Readable, this.#o.maxBodyBytes, Number.isFinite(declared) ? declared : null);
      } catch {
        // The client went, or its listener answered it already (a request timeout): nothing to decide.
        x.clientGone = true;
        this.#finish(x);
        return null;
      }
    }
    const described = describeRequest(x.id, method, url, routed, req.headers, read, this.#o.maxJsonDepth);
    const { ctx, facts } = described;
    const origin = this.#o.workloadOf ? (req.socket as OriginSocket | undefined)?.[ORIGIN] : undefined;
    const w = origin ? this.#o.workloadOf!(origin) : this.#o.peerWorkload ? this.#o.peerWorkload(req.socket.remoteAddress ?? '') : null;
    if (w) attribute(ctx, w);
    x.decision.ctx = ctx;
    const failures = this.#o.authFailures;
    if (failures?.watching) {
      const wait = failures.retryAfterMs(req.socket.remoteAddress ?? '');
      if (wait > 0) {
        this.#o.metrics.authFailures.inc({ port: 'proxy_throttled' });
        this.#block(x, { ...block('key-identity', 'ALT_AUTH_THROTTLED', 'source over the failed-key limit'), retryAfterMs: wait });
        return null;
      }
    }
    const decided = this.#seam.decide(ctx, req.socket.remoteAddress ?? '');
    const verdict = decided instanceof Promise ? await decided : decided;
    x.decision.verdict = verdict;
    if (isStop(verdict)) this.#block(x, verdict, facts.tooLarge);
    else if (x.clientGone) this.#finish(x);
    else if (x.killedBy) this.#block(x, x.killedBy);
    else {
      // A switch engaged while the decision was under way that the in-flight sweep could not match:
      // a loop learns the principal only with the decider's reply (the decider had passed the kill
      // stage, and waited on an approval, say).
      const k = ctx.principal ? this.#o.kills.stopping(ctx.principal) : null;
      if (!k) return described;
      x.killedBy = killVerdict(k);
      this.#block(x, x.killedBy);
    }
    return null;
  }

  #block(x: Exchange, v: Verdict, closeConnection = false): void {
    x.response.verdict = v;
    x.response.status = replyBlock(x.res, x.adapter, v, x.id, () => x.overheadMs(), closeConnection, x.decision.ctx?.call ?? null);
    this.#finish(x);
  }

  /** Phase 2, transport: the credential lane and the upstream call; hands the reply to phase 3 (#stream or #whole). */
  async #forward(x: Exchange, call: CallView, body: unknown, bodyBytes: Uint8Array | null): Promise<void> {
    const o = this.#o;
    const match = x.decision.match!;
    // A stage that redacted the request sends its rewritten body instead.
    const rewritten = x.decision.ctx!.rewritten;
    if (rewritten) {
      body = rewritten.json;
      bodyBytes = rewritten.bytes;
    }
    const target = match.adapter.upstreamRequest(match, call, body);
    const upstream = o.upstreams.get(target.upstream);
    if (!upstream) return this.#block(x, blockVerdict('ALT_PROVIDER_NOT_ALLOWED', 'credential-lane', `upstream ${target.upstream} is not configured`));
    let dispatcher: Dispatcher = this.#dispatcher;
    if (upstream.relayed) {
      const server = call.mcp!.server;
      const principal = x.decision.ctx!.principal;
      const relays = principal ? o.relays : undefined;
      if (relays && x.req.method === 'GET' && x.req.headers[RELAY_HEADER] === RELAY_OPEN) return this.#openRelay(x, relays, server, principal!);
      const asked = x.req.headers[RELAY_HEADER];
      const relay = relays?.find(typeof asked === 'string' ? asked : undefined, server, principal!.keyId);
      if (!relay) {
        return this.#block(x, block('upstream', 'ALT_MCP_RELAY_MISSING', asked ? `no open relay ${String(asked).slice(0, 64)} of MCP server ${server} for this key` : `MCP server ${server} speaks stdio and no relay was named`));
      }
      dispatcher = relay.dispatcher;
    }
    // A decider on another thread lent the credential with its verdict.
    const lent = x.decision.ctx!.lent?.upstream === upstream.name ? x.decision.ctx!.lent : undefined;
    const held = lent ? lent.credential : o.credentials.get(upstream.name, x.decision.ctx!.principal?.team);
    const credential = (held instanceof Promise ? await held : held) ?? (upstream.credentialRequired ? null : NO_CREDENTIAL);
    if (!credential || (credential.type === 'none' && upstream.credentialRequired)) {
      const problem = lent ? lent.problem : o.credentials.problem?.(upstream.name);
      return this.#block(x, block('credential-lane', 'ALT_CREDENTIAL_MISSING', `no credential for ${upstream.name}${problem ? `: ${problem}` : ''}`, upstream.credentialHint));
    }
    const url = upstreamUrl(upstream, target.path);
    const sendBody = target.body ?? bodyBytes;
    const method = x.req.method ?? 'GET';
    const headers = upstreamHeaders(x.req.headers);
    if (sendBody) headers['content-length'] = String(sendBody.length);
    const signing = injectCredential(upstream, credential, url, method, headers, sendBody);
    if (signing) await signing;

    if (x.clientGone) return this.#finish(x);
    if (x.killedBy) return this.#block(x, x.killedBy);
    x.transport.usageRequested = target.usageRequested === true;
    let reply: UpstreamReply;
    x.transport.called = true;
    x.upstreamBegins();
    try {
      reply = await callUpstream(
        dispatcher,
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method,
          headers,
          body: sendBody ? Buffer.from(sendBody.buffer, sendBody.byteOffset, sendBody.byteLength) : null,
          streamTypes: STREAM_TYPES,
          maxWholeBytes: o.maxResponseBytes,
          // An MCP server's own event stream (GET) stays open and idle until the server has something to say.
          ...(call.mcp && method === 'GET' ? { bodyTimeoutMs: 0 } : {}),
        },
        x.upstream,
      );
    } catch (err) {
      x.upstreamEnds();
      if (x.clientGone) return this.#finish(x);
      if (x.killedBy) return this.#block(x, x.killedBy);
      return this.#block(x, blockVerdict(upstreamFailureReason(err), 'upstream', (err as Error).message));
    }
    x.upstreamEnds();
    if (x.killedBy) {
      if (reply.kind === 'stream') reply.body.destroy();
      return this.#block(x, x.killedBy);
    }
    o.metrics.observeUpstream(call.provider, x.upstreamMs / 1000);
    const ok = reply.statusCode >= 200 && reply.statusCode < 300;
    x.transport.ok = ok;
    // A 2xx answer must be what the request asked for: an event stream for a stream, a body
    // otherwise. Anything else would reach the agent's SDK as empty or partial success.
    if (ok && !call.mcp && (reply.kind === 'stream') !== call.stream) {
      if (reply.kind === 'stream') reply.body.destroy();
      return this.#badResponse(x, `upstream answered ${reply.statusCode} ${contentTypeOf(reply.headers)} to a ${call.stream ? 'stream' : 'non-stream'} request`);
    }
    if (reply.kind === 'stream') return this.#stream(x, reply, call);
    x.response.completed = true;
    return this.#whole(x, reply, call, ok);
  }

  /**
   * The relay's event stream is this exchange's response: it stays open until the wrap goes or
   * a kill cuts it (a kill of the agent ends it like any stream of that agent), and its
   * decision is recorded then.
   */
  async #openRelay(x: Exchange, relays: StdioRelays, server: string, { keyId, agent }: Principal): Promise<void> {
    const prepared = await relays.prepare(server);
    if ('refused' in prepared) {
      return this.#block(
        x,
        block('mcp-egress', 'ALT_MCP_EGRESS_UNENFORCED', `MCP server ${server} declares egress that cannot be enforced here: ${prepared.refused}`, `The registry entry of ${server} limits where it may connect (mcp.servers.${server}.egress), and this launch cannot be held to it, so the server is not started. Run the wrap as root on a host whose agent enforces with BPF (node.enforcement: bpf), or ask an operator.`),
      );
    }
    if (x.clientGone || x.killedBy) {
      // The wrap went, or its agent was killed, while the cgroup was being made.
      if (prepared.cgroup !== null) relays.confinement?.release(prepared.id);
      return x.killedBy ? this.#block(x, x.killedBy) : this.#finish(x);
    }
    x.response.status = 200;
    x.response.completed = true;
    x.response.overheadAtHeaders = x.overheadMs();
    x.res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', 'x-altrace-request-id': x.id, 'x-altrace-overhead-ms': formatMs(x.response.overheadAtHeaders) });
    const relay = relays.open(prepared, server, keyId, agent, x.res as ServerResponse);
    x.res.once('close', () => this.#finish(x));
    this.#o.logger.info({ requestId: x.id, server: relay.server, agent: relay.agent, ...(relay.cgroup ? { cgroup: relay.cgroup } : {}) }, 'stdio MCP relay opened');
  }

  #headersFor(x: Exchange, upstream: UpstreamReply['headers']): Record<string, string | string[] | number> {
    const headers = downstreamHeaders(upstream) as Record<string, string | string[] | number>;
    headers['x-altrace-request-id'] = x.id;
    headers['x-altrace-overhead-ms'] = formatMs(x.overheadMs());
    const notes = x.decision.ctx?.notes;
    if (notes?.length) headers['x-altrace-warning'] = notes.map((n) => n.reason).join(', ');
    return headers;
  }

  /** Phase 3 for a stream: headers, then every fragment through the response stages (relay.ts). */
  async #stream(x: Exchange, response: Extract<UpstreamReply, { kind: 'stream' }>, call: CallView): Promise<void> {
    const match = x.decision.match!;
    const decoder = match.adapter.decoder(match, call);
    const inspection = this.#seam.openResponse(x.decision.ctx!, { streaming: true, maskable: decoder.canRetext === true });
    const headers = this.#headersFor(x, response.headers);
    const contentType = match.adapter.responseContentType?.(match);
    if (contentType) headers['content-type'] = contentType;
    x.response.status = response.statusCode;
    x.res.writeHead(response.statusCode, headers as never);
    // An MCP server's event stream may stay silent for long: the agent learns at once that it is open.
    if (call.mcp) x.res.flushHeaders?.();
    // A stream's added time is what it added before its first byte; fragments have their own histogram.
    x.response.overheadAtHeaders = x.overheadMs();
    this.#o.metrics.observeOverhead(call.provider, x.response.overheadAtHeaders / 1000);
    await relayStream(x, response.body, decoder, inspection, this.#o.metrics);
    this.#finish(x);
  }

  /**
   * Phase 3 for a whole body. Every byte of a whole body reaches the agent only after the response stages saw it: a 2xx
   * body is the JSON its provider's format promises, read field by field, or it is refused (an
   * SDK could not read anything else either, so refusing loses the agent nothing, and there is
   * no second, text-only way of scanning a success to get wrong). An error body (4xx/5xx) is
   * passed through as the provider wrote it, for the SDK's error types and retries, after its
   * text was scanned like any content.
   */
  async #whole(x: Exchange, response: Extract<UpstreamReply, { kind: 'whole' }>, call: CallView, ok: boolean): Promise<void> {
    let bytes = response.bytes;
    let parsed: unknown;
    let json = false;
    if (bytes.length > 0) {
      const text = bytes.toString('utf8');
      try {
        parsed = JSON.parse(text);
        json = true;
      } catch {
        // Not JSON: refused below when it is a success, scanned as text when it is an error.
      }
      // JSON.parse copes with any depth; the walks after it and the agent's SDK do not (an error
      // body nested 100,000 deep overflows the OpenAI SDK's stack as it builds its error).
      if (json && jsonDeeperThan(text, MAX_UPSTREAM_JSON_DEPTH)) return this.#tooDeep(x, response.statusCode, ok);
    }
    if (ok) {
      const wrong = unreadableSuccess(response, call, json, parsed, x.req.method);
      if (wrong) return this.#badResponse(x, wrong);
    }
    const inspection = this.#seam.openResponse(x.decision.ctx!, ok ? { streaming: false } : { streaming: false, errorBody: true });
    if (inspection || x.decision.ctx?.charge) {
      let text = '';
      let tools: Fragment['tools'] = null;
      let outcomes: Fragment['outcomes'] = null;
      let body: Fragment['body'];
      const adapter = x.decision.match!.adapter;
      if (ok) {
        text = adapter.responseText(x.decision.match!, parsed);
        tools = adapter.responseTools(x.decision.match!, parsed);
        if (adapter.responseOutcomes) outcomes = adapter.responseOutcomes(x.decision.match!, parsed);
        if (json) body = { json: parsed, rewritten: false };
        x.response.outputText = text;
      } else if (inspection) {
        text = json ? leavesText(parsed) : bytes.toString('utf8');
      }
      if (json) x.response.usage = adapter.responseUsage(x.decision.match!, parsed);
      if (inspection) {
        const fragment: Fragment = { text, tools, seq: 0 };
        if (outcomes) fragment.outcomes = outcomes;
        if (body) fragment.body = body;
        const inspected = inspection.inspect([fragment], true);
        let finding = inspected instanceof Promise ? await inspected : inspected;
        if (!finding) {
          const finished = inspection.finish();
          finding = finished instanceof Promise ? await finished : finished;
        }
        inspection.close(finding === null && !x.killedBy);
        if (finding) {
          x.response.verdict = finding.verdict;
          return this.#block(x, finding.verdict);
        }
        if (body?.rewritten) bytes = Buffer.from(JSON.stringify(body.json));
      }
    }
    if (x.killedBy) return this.#block(x, x.killedBy);
    const headers = this.#headersFor(x, response.headers);
    headers['content-length'] = bytes.length;
    x.response.status = response.statusCode;
    this.#o.metrics.observeOverhead(call.provider, x.overheadMs() / 1000);
    x.res.writeHead(response.statusCode, headers as never);
    x.res.end(bytes);
    this.#finish(x);
  }

  /** A 2xx answer Altrace cannot read as its provider's format: refused, never passed on unscanned. */
  #badResponse(x: Exchange, detail: string): void {
    this.#block(x, blockVerdict('ALT_UPSTREAM_BAD_RESPONSE', 'upstream', detail));
  }

  /** Refused whether success or error: passed on, it would reach the agent unscanned and could crash its SDK. */
  #tooDeep(x: Exchange, status: number, ok: boolean): void {
    const nesting = `nests arrays and objects more than ${MAX_UPSTREAM_JSON_DEPTH} levels deep`;
    if (ok) return this.#badResponse(x, `upstream answered ${status} with JSON that ${nesting}`);
    const hint = `The provider answered ${status}, and its error body was unreadable: its JSON ${nesting}. Retry, and tell an operator if it persists.`;
    this.#block(x, block('upstream', 'ALT_UPSTREAM_BAD_RESPONSE', `upstream error body (status ${status}) ${nesting}`, hint));
  }

  #internalError(x: Exchange, err: unknown): void {
    this.#o.logger.error({ req_id: x.id, err: { message: (err as Error).message, code: (err as { code?: unknown }).code } }, 'request failed inside the proxy');
    const v = blockVerdict('ALT_STAGE_FAILED', 'proxy', (err as Error).message);
    if (x.res.headersSent) {
      if (x.decision.match) cut(x, v, this.#o.metrics);
      else x.res.destroy();
      this.#finish(x);
    } else if (!x.res.destroyed) this.#block(x, v);
  }

  /** Phase 4: every charged request settles exactly once, whichever path ended it; a decider on another thread answers later. */
  #settle(x: Exchange): Promise<void> | void {
    const ctx = x.decision.ctx;
    if (!ctx?.charge || x.settled || x.settling) return;
    const call = ctx.call!;
    const settled = this.#seam.settle(
      ctx,
      { upstreamCalled: x.transport.called, ok: x.transport.ok, completed: x.response.completed, usage: x.response.usage, outputText: x.response.outputText, provider: call.upstream, model: call.model ?? '' },
      this.#now(),
    );
    x.response.outputText = '';
    if (!(settled instanceof Promise)) {
      x.settled = settled;
      return;
    }
    x.settling = true;
    return settled.then((s) => {
      x.settled = s;
    });
  }

  /** Phase 4, settlement and record: one counter, one audit record and one log line per exchange; never prompt or response text, never a key. */
  #finish(x: Exchange): void {
    const settling = this.#settle(x);
    if (settling) void settling.then(() => this.#record(x));
    else this.#record(x);
  }

  #record(x: Exchange): void {
    const summary = summarize(x);
    this.#o.metrics.countRequest(summary.provider, summary.outcome, summary.reason);
    if (summary.reason === 'ALT_KEY_UNKNOWN' && this.#o.authFailures) {
      this.#o.authFailures.fail(x.req.socket.remoteAddress ?? '');
      this.#o.metrics.authFailures.inc({ port: 'proxy' });
    }
    this.#o.onDecision?.(decisionRecord(x, summary, this.#now()));
    if (this.#decisionLine.enabled) this.#decisionLine.write(decisionFields(x, summary));
    if (x.decision.ctx) this.#seam.release?.(x.decision.ctx);
  }
}
