// A data-plane loop on its own thread (listen.loops > 1): it accepts connections on the shared
// proxy port, reads and parses requests, runs the loop stages, calls upstream with the
// credential the main thread lends it, relays and writes responses. Every decision that reads
// or writes state is the decider's, on the main thread (docs/scaling.md).
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import {
  BudgetLedger,
  buildAdapters,
  canary,
  Chain,
  contentRequest,
  createLogger,
  enforceOnly,
  GovernedProxy,
  ingressLimits,
  KillSwitches,
  listenExplicit,
  loadDefaultDetectors,
  PortSeam,
  ProxyMetrics,
  SpendAttribution,
  type ContentPolicy,
  type Credential,
  type CredentialSource,
  type ExplicitListener,
  type Scanner,
  type Stage,
} from '../../../proxy/src/index.js';
import type { ClassifyResult, ClassifyTask, DetectResult, DetectTask } from '../../../proxy/src/scan/messages.js';
import { packageRoot } from '../paths.js';
import { upstreamsFrom } from '../upstreams.js';
import { proxyLimits } from '../proxy-limits.js';
import type { FromLoopThread, LoopData, ToLoopThread } from './messages.js';

const data = workerData as LoopData;
const main = parentPort!;
const send = (m: FromLoopThread): void => main.postMessage(m);
const { config } = data;
const toMain = new Writable({
  write(chunk: Buffer, _encoding, done) {
    send({ t: 'log', line: chunk.toString('utf8') });
    done();
  },
});
const logger = createLogger(config.log.level, data.logToMain ? toMain : undefined).child({ loop: data.index });

/** Asks of the main thread that wait for an answer, by id. */
let nextId = 1;
const waiting = new Map<number, (m: ToLoopThread) => void>();
function ask<T extends ToLoopThread>(message: (id: number) => FromLoopThread): Promise<T> {
  const id = nextId++;
  return new Promise((resolve) => {
    waiting.set(id, resolve as (m: ToLoopThread) => void);
    send(message(id));
  });
}

/** The main thread's scan workers, reached through it: the loop starts no pool of its own. */
function scan<R extends DetectResult | ClassifyResult>(task: DetectTask | ClassifyTask): Promise<R> {
  return ask<Extract<ToLoopThread, { t: 'scanned' }>>((id) => ({ t: 'scan', id, task })).then((m) => (m.error ? Promise.reject(new Error(m.error)) : (m.result as R)));
}
const scanner: Scanner = { detect: (task) => scan<DetectResult>(task), classify: (task) => scan<ClassifyResult>(task) };

/** The credential lane stays on the main thread: a loop borrows a credential per request, and why one is missing. */
const problems = new Map<string, string | null>();
const credentials: CredentialSource = {
  get: (upstream, team) =>
    ask<Extract<ToLoopThread, { t: 'credential' }>>((id) => ({ t: 'credential', id, upstream, team: team ?? null })).then((m) => {
      problems.set(upstream, m.problem);
      return m.credential satisfies Credential | null;
    }),
  problem: (upstream) => problems.get(upstream) ?? null,
};

const content: { current: { content: ContentPolicy } } = { current: { content: data.content } };
const secretRulesPath = join(packageRoot, 'policies', 'rules', 'gitleaks.toml');
const own = new Map<string, Stage>(
  [
    ingressLimits(config.limits.max_body_bytes, config.limits.max_json_depth),
    enforceOnly(config.enforce_only),
    contentRequest(content, loadDefaultDetectors(secretRulesPath).set, scanner),
    canary(content),
  ].map((s) => [s.id, s]),
);

/**
 * The declared chain's request stages at the same positions as the decider's: this loop's own
 * where the chain places them in the loop, and in the decider's places a stage that refuses
 * (fail closed) — the decider never asks a loop for them.
 */
function loopChain(): Chain {
  const stages: Stage[] = [];
  for (const d of data.stages) {
    if (d.side !== 'request') continue;
    const mine = d.place === 'loop' ? own.get(d.id) : undefined;
    if (d.place === 'loop' && !mine) throw new Error(`the chain places stage ${d.id} in the loop and this loop does not have it`);
    stages.push(
      mine ?? { id: d.id, band: d.band, side: 'request', place: 'decider', summary: d.summary, evaluate: () => ({ outcome: 'block', reason: 'ALT_STAGE_FAILED', stage: d.id, detail: 'a decider stage was asked of a loop' }) },
    );
  }
  return new Chain(stages, { stageTimeoutMs: config.chain.stage_timeout_ms });
}

const chain = loopChain();
const kills = new KillSwitches();
for (const k of data.kills) kills.engage(k);
const metrics = new ProxyMetrics();
const seam = new PortSeam(chain, data.decider);
const upstreams = upstreamsFrom(config);
const { adapters, router } = buildAdapters(upstreams);
const proxy = new GovernedProxy({
  chain,
  router,
  fallbackAdapter: adapters.openai,
  upstreams,
  credentials,
  ...proxyLimits(config),
  logger,
  metrics,
  kills,
  // Settled by the decider, which holds the reservations: these stay empty.
  budgets: { ledger: new BudgetLedger(), attribution: new SpendAttribution() },
  seam,
  evidence: (request) => ask<Extract<ToLoopThread, { t: 'evidence' }>>((id) => ({ t: 'evidence', id, request })).then((m) => m.answer),
  // Behind the exchange's end, on the decider's port: one batch for both.
  onDecision: (record) => seam.record(record),
});

// Assigned once open: a stop that comes before closes what there is.
let listener: ExplicitListener | null = null;
main.on('message', (m: ToLoopThread) => {
  switch (m.t) {
    case 'kill':
      return kills.engage(m.kill);
    case 'release':
      return kills.release(m.scope, m.target);
    case 'barrier':
      return send({ t: 'barrier', id: m.id });
    case 'metrics':
      return void metrics.registry.getMetricsAsJSON().then((json) => send({ t: 'metrics', id: m.id, metrics: json }));
    case 'content':
      content.current = { content: m.content };
      return;
    case 'credential':
    case 'scanned':
    case 'evidence': {
      const resolve = waiting.get(m.id);
      waiting.delete(m.id);
      return resolve?.(m);
    }
    case 'stop':
      return void (listener?.close(m.graceMs) ?? Promise.resolve())
        .then(() => proxy.close())
        .then(() => send({ t: 'stopped' }));
  }
});

const host = config.listen.proxy_host ?? config.listen.host;
const timeouts = { headersTimeoutMs: config.listen.headers_timeout_ms, requestTimeoutMs: config.listen.request_timeout_ms };
listener = await listenExplicit(host, data.port, proxy.handle, { timeouts, reusePort: true, onProtocolError: (reason) => metrics.protocolErrors.inc({ listener: 'proxy', reason }) });
send({ t: 'listening' });
