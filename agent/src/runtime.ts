import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { existsSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { collectDefaultMetrics, Counter, Gauge } from 'prom-client';
import { Agent as UndiciAgent } from 'undici';
import {
  AuthFailures,
  Chain,
  GovernedProxy,
  type DecisionRecord,
  KeyRegistry,
  KillSwitches,
  AgentLevels,
  RunTracker,
  BudgetLedger,
  SpendAttribution,
  providerTokenCounter,
  PolicyHolder,
  ProxyMetrics,
  ScanPool,
  loadDefaultDetectors,
  DataFlow,
  buildAdapters,
  mcpUpstream,
  StdioRelays,
  createLogger,
  declaredStages,
  ApprovedPins,
  ChangedTools,
  EvidenceLedger,
  DelegationBudgets,
  RateBuckets,
  hashKey,
  listenExplicit,
  listenTransparent,
  systemClock,
  type Clock,
  type ExplicitListener,
  type TransparentListener,
  type Logger,
  type Upstream,
  type WorkloadRef,
  type SeamKind,
  DeciderHost,
} from '../../proxy/src/index.js';
import type { Config } from './config/config.js';
import { ControlServer } from './control/server.js';
import type { RouteInfo } from './control/router.js';
import { EncryptedCredentialFile, loadMasterKey } from './credentials/encrypted-file.js';
import { CredentialStore } from './credentials/store.js';
import { credentialGaps, type CredentialSupply } from './credentials/supply.js';
import { upstreamsFrom } from './upstreams.js';
import { proxyLimits } from './proxy-limits.js';
import { LoopSet } from './loops/loop-set.js';
import { AuditService } from './audit/service.js';
import { openServices } from './services/open-services.js';
import { PinReviewService } from './services/pin-review-service.js';
import { VaultCredentials, vaultToken } from './credentials/vault.js';
import { OtlpSpans } from './telemetry/otlp-spans.js';
import { controlSources } from './control/source-policy.js';
import { followControlPlane, type Followed } from './follower/follow.js';
import { RunSharing } from './follower/run-sharing.js';
import { loadBundle } from './policy/bundle.js';
import type { PushedPolicy } from './services/policy-service.js';
import { packageVersion } from './cli/version.js';
import type { BypassReport } from './node/bypass-reports.js';
import type { EgressRefusal } from './node/mcp-egress.js';
import type { PodCache } from './kube/pod-cache.js';
import { controlTlsFor } from './control/tls-setup.js';
import { startSiem } from './siem/index.js';
import { CertificateService } from './services/certificate-service.js';
import type { Registry } from 'prom-client';
import { toPodRef } from './kube/pod-identity.js';
import { NodeEnforcement, tlsAction } from './node/node-enforcement.js';
import { NftEnforcement } from './node/nft.js';
import type { SeenWorkload } from './node/registry.js';
import { startHeapReclaim } from './memory-reclaim.js';
import { packageRoot } from './paths.js';
import { provenanceGate } from './mcp/provenance-gate.js';
import { egressConfinement } from './mcp/egress-confinement.js';
import { classifiersReady } from './policy/classifiers-ready.js';
import { loadPolicy, loadPrices, policyContractsDir } from './policy/load.js';
import { watchFile, watchYamlDirectory, type FileWatch } from './policy/reload.js';
import { SqliteStore } from './state/sqlite.js';

/** `source@digest` of the policy in force, built once per policy rather than once per audited decision. */
function contractRef(policy: PolicyHolder): () => string {
  let of: unknown = null;
  let ref = '';
  return () => {
    const p = policy.current;
    if (p !== of) {
      of = p;
      ref = `${p.source}@${p.digest}`;
    }
    return ref;
  };
}

export interface RunningAgent {
  proxyPort: number;
  controlPort: number;
  /** The ops listener (listen.ops_port), when configured. */
  opsPort?: number;
  /** Set only when this start generated the bootstrap token. */
  bootstrapToken: string | null;
  policyFile: string;
  /** Upstreams with no credential at start: their requests are refused until one is supplied. */
  credentialGaps: CredentialSupply[];
  stateDir: string;
  logger: Logger;
  /** The control API's /api/v1 routes, as declared (for the test that every state change names its audit target). */
  controlRoutes: readonly RouteInfo[];
  /** Where /metrics reads from: what the CLI adds (the configuration file's state) goes here too. */
  metricsRegistry: Registry;
  /** The data plane's other loops (listen.loops > 1): how many run, and each one's thread (a test stops one to see it come back). */
  loops: LoopSet | null;
  close(): Promise<void>;
}

export function resolvePolicyPath(p: string): string {
  if (isAbsolute(p)) return p;
  const fromCwd = resolve(p);
  return p.startsWith('policies/') && !fromCwd.startsWith(packageRoot) ? resolve(packageRoot, p) : fromCwd;
}

export interface StartOptions {
  /** The time every decision reads (contract hours, budget windows, expiry, rates); the system clock unless a test says which time it runs at. */
  clock?: Clock;
  /** How decisions cross to the decider: `copied` sends each as the multi-loop messages, so tests can check that seam (docs/scaling.md). */
  seam?: SeamKind;
}

/** Starts the node agent: state, credential lane, policy, chain, proxy and control API. */
export async function startAgent(config: Config, env: NodeJS.ProcessEnv = process.env, logDestination?: NodeJS.WritableStream, options: StartOptions = {}): Promise<RunningAgent> {
  const clock = options.clock ?? systemClock;
  const logger = createLogger(config.log.level, logDestination);
  // Before anything is opened: a trusted root that cannot be read stops the start here.
  const provenance = provenanceGate(config.mcp.provenance, logger);
  const store = new SqliteStore(config.state_dir);
  let bootstrapToken: string | null = null;
  // A followed node's operator tokens are its control plane's: nothing to bootstrap here.
  if (config.fleet.control_plane === undefined && config.admin_token) await store.addOperatorToken(hashKey(config.admin_token), 'admin', null, 'admin');
  else if (config.fleet.control_plane === undefined && (await store.countOperatorTokens()) === 0) {
    bootstrapToken = `altop-${randomBytes(24).toString('base64url')}`;
    await store.addOperatorToken(hashKey(bootstrapToken), 'admin', null, 'admin');
    // Kept for the local CLI, like a dev-mode root token; readable by the owner only.
    writeFileSync(join(config.state_dir, 'admin.token'), bootstrapToken + '\n', { mode: 0o600 });
  }

  const masterKey = loadMasterKey(config.credentials.master_key_file ?? join(config.state_dir, 'master.key'), env.ALTRACE_MASTER_KEY);
  // A key beside what it protects protects nothing from whoever copies the state directory.
  if (!env.ALTRACE_MASTER_KEY && !config.credentials.master_key_file && existsSync(join(config.state_dir, 'credentials.enc'))) {
    logger.warn({ master_key: join(config.state_dir, 'master.key') }, 'the credential store\'s master key is in the state directory beside the store: keep it elsewhere (ALTRACE_MASTER_KEY from a Kubernetes Secret, or credentials.master_key_file on another volume; docs/security.md)');
  }
  const encrypted = new EncryptedCredentialFile(join(config.state_dir, 'credentials.enc'), masterKey);
  const awsChain = config.providers.bedrock.aws_chain
    ? (await import('@aws-sdk/credential-provider-node')).defaultProvider()
    : undefined;
  const vaultConfig = config.credentials.vault;
  let credentials: CredentialStore | null = null;
  const vault = vaultConfig
    ? new VaultCredentials({
        address: vaultConfig.address,
        token: vaultToken(vaultConfig.token_file, env),
        mount: vaultConfig.mount,
        prefix: vaultConfig.prefix,
        refreshMs: vaultConfig.refresh_s * 1000,
        onChange: () => {
          try {
            credentials?.reload();
          } catch (err) {
            logger.error({ err: (err as Error).message }, 'credentials could not be reloaded after a Vault read; the last good ones stay in use');
          }
        },
        onError: (message) => logger.error({ vault: vaultConfig.address }, `${message}; the last good credentials stay in use`),
      })
    : null;
  credentials = new CredentialStore({
    env,
    file: config.credentials.file,
    secretDir: config.credentials.secret_dir,
    stored: () => encrypted.read(),
    ...(vault ? { vault: () => vault.entries() } : {}),
    keyEnv: Object.fromEntries([...config.providers.compatible.map((c) => [c.name, c.api_key_env]), ...config.mcp.servers.map((s) => [mcpUpstream(s.name), s.api_key_env])]),
    awsChain,
  });
  // Start-up waits for the first Vault read, so the first request finds its credential.
  await vault?.start();
  const credentialWatch = credentials.watch((err) => {
    if (err) logger.error({ err: err.message }, 'credentials changed but could not be read; the last good ones stay in use');
    else logger.info({ credentials: credentials.configured() }, 'credentials reloaded');
  });

  const policyFile = resolvePolicyPath(config.policy);
  const policy = new PolicyHolder(loadPolicy(policyFile));
  const keys = new KeyRegistry();
  const kills = new KillSwitches();
  const prices = { current: loadPrices(resolvePolicyPath(config.prices)) };
  const ledger = new BudgetLedger();
  const attribution = new SpendAttribution();
  const upstreams = upstreamsFrom(config);
  // Its own small pool: provider token counts are rare (a budget near its limit).
  const countDispatcher = new UndiciAgent({ connections: 4, keepAliveTimeout: 10_000 });
  const levels = new AgentLevels();
  levels.throttlePerSecond = policy.current.enforcement.throttlePerSecond;
  const runs = new RunTracker(() => policy.current.runLoops);
  // The log's origin names this node; key names may not contain spaces or '+'.
  const origin = `altrace.local/${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}/audit`;
  let audit: AuditService | null = null;
  try {
    audit = config.audit.enabled
      ? await AuditService.open(
          config.state_dir,
          origin,
          contractRef(policy),
          () => prices.current.version,
          (message) => logger.error({ err: message }, 'audit log writer reported a failure'),
          clock,
        )
      : null;
  } catch (err) {
    // A log that cannot be read is not started on, and not repaired: the agent does not start.
    await countDispatcher.close();
    store.close();
    throw err;
  }
  const metrics = new ProxyMetrics();
  // Process RSS, heap, event-loop lag and GC: what an operator checks first when the proxy adds latency.
  collectDefaultMetrics({ register: metrics.registry, prefix: 'altrace_' });
  // The audit log shipped to the SIEM sinks, from disk, at least once.
  const siem = startSiem(config, { node: config.fleet.node_name ?? hostname(), hostname: hostname(), version: packageVersion() }, logger, metrics.registry);
  let followed: Followed | null = null;
  // Set once the control plane pushed a policy: it replaces the local policy file, whose edits are then ignored.
  let fleetPolicy = false;
  const applyFleetPolicy = (pushed: PushedPolicy): void => {
    try {
      const next = loadBundle(pushed.bundle, join(config.state_dir, 'fleet', 'policy'), `control-plane:${pushed.digest}`);
      fleetPolicy = true;
      if (next.digest === policy.current.digest) return;
      policy.replace(next);
      levels.throttlePerSecond = policy.current.enforcement.throttlePerSecond;
      logger.info({ digest: next.digest, by: pushed.by, contracts: next.contracts.all.map((c) => c.ref) }, 'fleet policy loaded');
    } catch (err) {
      logger.error({ digest: pushed.digest, err: (err as Error).message }, 'the fleet policy does not load on this node; the last good policy stays in force');
    }
  };
  // MCP tool pins operators approved after a change: from this node's store, or from the control plane's stream.
  const approvedPins = new ApprovedPins();
  const changedTools = new ChangedTools();
  if (config.fleet.control_plane) {
    try {
      followed = await followControlPlane(config, env, { keys, kills, levels, budgets: ledger, pins: approvedPins, changedTools }, store, audit, applyFleetPolicy, packageVersion(), logger, metrics.registry);
    } catch (err) {
      await audit?.close();
      await countDispatcher.close();
      store.close();
      throw err;
    }
  }
  const services = await openServices(followed?.store ?? store, { keys, kills, levels, ledger, attribution }, policy, config, (c) => {
    logger.warn({ agent: c.agent, from: c.from, to: c.to, by: c.by, reason: c.reason }, 'agent enforcement level changed');
    // Rule-driven changes are audited here; an operator's call is audited by the control API.
    if (!c.by.startsWith('operator:')) void audit?.control({ name: c.by, team: null }, `LEVEL ${c.from}->${c.to}`, c.agent, 200, null, true).catch(() => {});
  }, clock);
  const { budgets: budgetService, enforcement, approvals, delegation } = services;
  followed?.bindApprovals(approvals);
  // A changed MCP tool opens an approval that pins it when approved: in this node's store, or on its control plane.
  const pinReviews = await PinReviewService.open(followed?.store ?? store, approvedPins, logger, clock, followed?.follower ?? null);
  // A followed node's reviews are decided on its control plane, which writes the pin.
  if (!followed) approvals.pinReviews = pinReviews;
  enforcement.onError = (err, agent) => logger.error({ agent, err: err.message }, 'enforcement level change not committed; the agent keeps its level');
  const secretRulesPath = join(packageRoot, 'policies', 'rules', 'gitleaks.toml');
  const scanPool = new ScanPool({ threads: config.scan.workers, secretRulesPath, workerHeapMb: config.scan.worker_heap_mb });
  const { set: detectors, skipped } = loadDefaultDetectors(secretRulesPath);
  if (skipped.length) logger.info({ skipped: skipped.map((s) => `${s.id}: ${s.why}`) }, 'secret rules not used here');
  const evidenceLedger = new EvidenceLedger();
  const contractRates = new RateBuckets();
  const delegationBudgets = new DelegationBudgets();
  followed?.follower.shareRuns(new RunSharing(evidenceLedger, runs, contractRates, delegationBudgets, logger));
  const chain = new Chain(
    declaredStages({
      keys,
      kills,
      levels,
      runs,
      ledger,
      prices,
      providerCount: providerTokenCounter(upstreams, credentials, countDispatcher, config.upstream.connect_timeout_ms),
      policy,
      scanPool,
      detectors,
      dataFlow: new DataFlow(),
      evidence: evidenceLedger,
      contractRates,
      approvals,
      approvedPins,
      changedTools,
      provenance,
      ...(followed ? { fleet: followed.follower } : {}),
      ...(config.siem.sinks.some((k) => k.when_full === 'block') ? { auditBacklog: siem } : {}),
      delegation: { roots: () => delegation.roots, budgets: delegationBudgets },
      regions: new Map([...upstreams].map(([name, u]) => [name, u.dataRegion ?? null])),
      hosts: new Map([...upstreams].map(([name, u]) => [name, u.base.hostname])),
      urls: new Map([...upstreams].map(([name, u]) => [name, u.base.href])),
      enforceOnly: config.enforce_only,
      maxBodyBytes: config.limits.max_body_bytes,
      maxJsonDepth: config.limits.max_json_depth,
      now: clock,
    }),
    { stageTimeoutMs: config.chain.stage_timeout_ms },
  );
  const { adapters, router } = buildAdapters(upstreams);
  const authLimit = { failures: config.limits.auth_failures_per_minute, perMs: 60_000 };
  // One count of failed virtual keys per source for every path of the proxy port, evidence included.
  const proxyAuthFailures = new AuthFailures(authLimit, clock);
  const spans = config.telemetry.otlp_endpoint ? new OtlpSpans({ endpoint: config.telemetry.otlp_endpoint, headers: config.telemetry.otlp_headers, serviceName: config.telemetry.service_name, logger }) : null;
  const onDecision = (d: DecisionRecord): void => {
    audit?.decision(d);
    spans?.record(d);
    enforcement.observe(d);
    node?.observe(d);
  };
  // Servers that declare egress start confined by the node's BPF programs (or are refused).
  const confinement = egressConfinement({
    policy,
    egress: () => (node instanceof NodeEnforcement ? node.mcpEgress : `this agent does not confine processes (node.enforcement: ${config.node.enforcement}; confinement needs bpf)`),
    logger,
  });
  const relays = config.mcp.servers.some((s) => s.transport === 'stdio') ? new StdioRelays(config.upstream.headers_timeout_ms, confinement) : null;
  if (relays) confinement.follow(relays);
  const evidenceDeps = { keys, kills, policy, ledger: evidenceLedger, maxJsonDepth: config.limits.max_json_depth, authFailures: proxyAuthFailures, metrics, onDecision };
  const proxy = new GovernedProxy({
    authFailures: proxyAuthFailures,
    chain,
    router,
    fallbackAdapter: adapters.openai,
    upstreams,
    credentials,
    ...proxyLimits(config),
    logger,
    metrics,
    kills,
    evidence: evidenceDeps,
    budgets: { ledger, attribution },
    workloadOf: (origin) => node?.workloadOf(origin) ?? null,
    // Pods that reach the proxy by their base URL (explicit mode) are known by their pod IP.
    ...(config.kubernetes.enabled ? { peerWorkload: (address: string) => peerPod(address) } : {}),
    now: clock,
    onDecision,
    ...(options.seam ? { seam: options.seam } : {}),
    // A stdio server's answer waits as long as an HTTP server's headers would.
    ...(relays ? { relays } : {}),
  });

  let ready = false;
  let node: NodeEnforcement | NftEnforcement | null = null;
  let pods: PodCache | null = null;
  let peerPod: (address: string) => WorkloadRef | null = () => null;
  const clientTimeouts = { headersTimeoutMs: config.listen.headers_timeout_ms, requestTimeoutMs: config.listen.request_timeout_ms };
  // The data plane's other loops (listen.loops > 1), started once the main loop holds the port.
  let loops: LoopSet | null = null;
  const controlStore = followed?.store ?? store;
  const controlTls = await controlTlsFor(config, controlStore, logger, null);
  const control = new ControlServer({ tls: controlTls, certificates: controlTls ? new CertificateService(controlStore, controlTls.ca, () => controlTls.refresh()) : null, timeouts: clientTimeouts, maxJsonDepth: config.limits.max_json_depth, chain, keys: services.keys, kills: services.kills, budgets: budgetService, enforcement, audit, tokens: services.tokens, approvals, delegation, store: followed?.store ?? store, metrics, loopMetrics: () => loops?.metrics() ?? Promise.resolve([]), ready: () => ready && (followed?.follower.ready ?? true), node: () => node, authFailures: new AuthFailures(authLimit, clock), sources: controlSources(config), callsPerMinute: config.limits.control_calls_per_minute });
  let listener: ExplicitListener;
  let transparent: TransparentListener | null = null;
  let controlPort: number;
  let opsPort: number | undefined;
  try {
    // A model that cannot run stops the start here, as an invalid policy does, instead of failing requests.
    await classifiersReady(scanPool, policy.current);
    listener = await listenExplicit(config.listen.proxy_host ?? config.listen.host, config.listen.proxy_port, proxy.handle, {
      timeouts: clientTimeouts,
      onProtocolError: (reason) => metrics.protocolErrors.inc({ listener: 'proxy', reason }),
      reusePort: config.listen.loops > 1,
    });
    if (config.listen.loops > 1) {
      const decider = new DeciderHost(chain, { ledger, attribution }, {
        ...(config.kubernetes.enabled ? { peerWorkload: (address: string) => peerPod(address) } : {}),
        authFailures: proxyAuthFailures,
        onAuthFailure: (port) => metrics.authFailures.inc({ port }),
        now: clock,
        credentials,
        // Timed by the agent's clock, as the main loop's records are.
        onRecord: (d) => onDecision({ ...d, time: clock() }),
      });
      loops = new LoopSet({ config, port: listener.port, stages: chain.describe(), content: () => policy.current.content, decider, kills, credentials, scanPool, evidence: evidenceDeps, now: clock, logger, ...(logDestination ? { log: (line: string) => void logDestination.write(line) } : {}) });
      const restarts = new Counter({ name: 'altrace_data_plane_loop_restarts_total', help: 'Data-plane loops (listen.loops) that died and were started again.', registers: [metrics.registry] });
      const running = loops;
      new Gauge({
        name: 'altrace_data_plane_loops',
        help: 'Data-plane event loops listening on the proxy port, the main one included (listen.loops).',
        registers: [metrics.registry],
        collect() {
          this.set(1 + running.listening);
        },
      });
      loops.onRestart = () => restarts.inc();
      await loops.start(config.listen.loops - 1);
      policy.onReplace((next) => loops?.content(next.content));
      logger.info({ loops: config.listen.loops, port: listener.port }, 'data plane on several event loops');
    }
    controlPort = await control.listen(config.listen.host, config.listen.control_port);
    if (config.listen.ops_port !== undefined) opsPort = await control.listenOps(config.listen.ops_host ?? config.listen.host, config.listen.ops_port);
    // This node's pods, in every enforcement mode: a pod in explicit base-URL mode is known by its address.
    if (config.kubernetes.enabled) {
      const nodeName = config.kubernetes.node_name ?? process.env.NODE_NAME ?? config.fleet.node_name ?? hostname();
      // Loaded only where Kubernetes is on: the client library is ~30 MB of heap a single node never uses.
      const { kubeConfigFor } = await import('./kube/kube-config.js');
      const { PodCache, podByAddress } = await import('./kube/pod-cache.js');
      pods = new PodCache({ kubeConfig: kubeConfigFor(config.kubernetes), nodeName, logger, inactivityMs: config.kubernetes.watch_inactivity_s * 1000, onChange: (p, change) => {
        if (node instanceof NftEnforcement) node.podEnforcement(p.uid, change === 'set' ? p : null);
        if (!(node instanceof NodeEnforcement)) return;
        node.podChanged(p.uid, change === 'set' ? toPodRef(p) : null);
        node.podEnforcement(p.uid, change === 'set' ? p : null);
      } });
      const byAddress = podByAddress(pods);
      peerPod = (address) => {
        const pod = byAddress(address);
        return pod ? { id: `shadow-${pod.namespace}.${pod.name}`, agent: pod.agent, team: pod.team, pod } : null;
      };
      // Listed before enforcement starts: the pods already running are known from the first connect.
      if (!(await pods.start())) logger.warn({ node: nodeName }, 'the pod watch has not listed yet: workloads are named by cgroup until it does');
    }
    // cilium: Cilium's policies (emitted by the control plane) keep pods off AI destinations; nothing in this node's kernel.
    if (config.node.enforcement === 'bpf' || config.node.enforcement === 'nftables') {
      const podCache = pods;
      // Loaded already with the pod watch (the import is cached): the lookups the enforcement uses.
      const podLookups = podCache ? await import('./kube/pod-cache.js') : null;
      const options = {
        config: config.node,
        upstreams,
        kills,
        logger,
        onShadow: (w: SeenWorkload) => {
          logger.warn({ shadow_agent: w.id, pid: w.pid, comm: w.comm, address: w.address, cgroup: w.cgroupPath, pod_uid: w.podUid, providers: [...w.providers] }, 'shadow agent: an AI-bound connection from a workload no virtual key has named');
          void audit?.control({ name: 'node-discovery', team: null }, `DISCOVER shadow-agent ${w.comm || w.address} pid ${w.pid} → ${[...w.providers].join(',') || 'unknown'}`, w.id, 200, null, false).catch(() => {});
        },
        stateDir: config.state_dir,
        ...(podCache && podLookups ? { podOf: podLookups.podLookup(podCache), podByAddress: podLookups.podByAddress(podCache), kubernetes: podCache } : {}),
        ...(podCache && config.kubernetes.enforce === 'labeled' ? { optIn: { pods: () => podCache.pods() } } : {}),
        onBypassAttempt: (verdict: BypassReport['verdict'], w: SeenWorkload | null) => metrics.bypassAttempts.inc({ verdict, agent: w?.agent ?? w?.id ?? 'unknown' }),
        onBypass: (r: BypassReport) => {
          const who = r.workload?.agent ?? r.workload?.id ?? `unknown source ${r.source ?? '?'}`;
          logger.warn({ verdict: r.verdict, agent: r.workload?.agent ?? null, workload: r.workload?.id ?? null, seen_at: r.seenAt, source: r.source, destination: r.destination, protocol: r.protocol, provider: r.provider, count: r.count }, 'bypass attempt stopped in the kernel');
          void audit?.control({ name: 'node-enforcement', team: r.workload?.team ?? null }, `BYPASS ${r.verdict} ${r.protocol} ${r.source ?? ''} → ${r.destination} at ${r.seenAt} ×${r.count}`, who, 403, null, false).catch(() => {});
        },
        onEgressAttempt: (server: string) => metrics.mcpEgressRefused.inc({ server }),
        onEgressRefused: (r: EgressRefusal) => {
          logger.warn({ server: r.server, pid: r.pid, comm: r.comm, destination: r.destination, protocol: r.protocol, cgroup: r.cgroup, count: r.count }, 'an MCP server reached outside its declared egress; refused in the kernel');
          void audit?.control({ name: 'node-enforcement', team: null }, `EGRESS refused ${r.protocol} → ${r.destination} ×${r.count} (${r.comm || 'pid ' + r.pid})`, `mcp:${r.server}`, 403, 'ALT_MCP_EGRESS_REFUSED', false).catch(() => {});
        },
        onCapabilities: (w: SeenWorkload) => {
          const caps = [w.capabilities?.netRaw ? 'CAP_NET_RAW' : null, w.capabilities?.netAdmin ? 'CAP_NET_ADMIN' : null].filter(Boolean).join(',');
          logger.warn({ workload: w.id, cgroup: w.cgroupPath, capabilities: caps }, 'a governed workload holds network capabilities that defeat the socket programs: only the packet backstop stops what it sends');
          void audit?.control({ name: 'node-enforcement', team: w.team }, `WARN capabilities ${caps}`, w.id, 200, null, false).catch(() => {});
        },
      };
      const loaded = config.node.enforcement === 'bpf' ? NodeEnforcement.load(options) : NftEnforcement.load(options);
      node = loaded;
      const host = config.node.transparent_host!;
      const ca = config.node.tls !== 'terminate' ? null : await openNodeCa(config);
      loaded.ca = ca;
      transparent = await listenTransparent(host, config.node.transparent_port, proxy.handle, {
        timeouts: clientTimeouts,
        onProtocolError: (reason) => metrics.protocolErrors.inc({ listener: 'transparent', reason }),
        lookup: loaded.lookup,
        tls: (origin, sni) => tlsAction(config.node.tls, ca, origin, sni, logger),
      });
      if (loaded instanceof NftEnforcement) loaded.listener = transparent;
      await loaded.activate({ address: host, port: transparent.port });
    }
  } catch (err) {
    await loops?.close(0);
    controlTls?.stop();
    siem.stop();
    node?.close();
    await pods?.stop();
    credentialWatch.close();
    vault?.close();
    await followed?.follower.close();
    await transparent?.close(0);
    await audit?.close();
    await scanPool.close();
    store.close();
    throw err;
  }

  const policyWatches: FileWatch[] = [];
  // The contracts directory the policy names, watched; a reload that names another moves the watch.
  let contractsWatch: { dir: string; watch: FileWatch } | null = null;
  const watchContracts = (dir: string | null): void => {
    if ((contractsWatch?.dir ?? null) === dir) return;
    contractsWatch?.watch.close();
    contractsWatch = null;
    if (dir === null) return;
    try {
      contractsWatch = { dir, watch: watchYamlDirectory(dir, reloadPolicy) };
    } catch (err) {
      logger.warn({ contracts: dir, err: (err as Error).message }, 'contracts directory not watched (create it, then save the policy file again to pick it up)');
    }
  };
  // The directory the policy file names now, whether or not it loaded: a refused reload (a typo in
  // the new directory's contracts) must still watch the directory where the fix will land.
  const followContracts = (): void => {
    try {
      watchContracts(policyContractsDir(policyFile));
    } catch {
      // The policy file itself is unreadable or invalid: its own watch brings us back here.
    }
  };
  const reloadPolicy = async (): Promise<void> => {
    if (fleetPolicy) return void logger.warn({ policy: policyFile }, 'policy file changed, and ignored: this node enforces the policy pushed to its fleet');
    try {
      const next = loadPolicy(policyFile);
      if (next.digest === policy.current.digest) return;
      await classifiersReady(scanPool, next, policy.current);
      policy.replace(next);
      levels.throttlePerSecond = policy.current.enforcement.throttlePerSecond;
      logger.info({ policy: policyFile, digest: policy.current.digest, contracts: next.contracts.all.map((c) => c.ref) }, 'policy reloaded');
      // A policy change is a security event: in the audit log (and so the SIEM). Written durably but
      // not waited for: the next reload must not queue behind an fsync.
      void audit?.control({ name: 'policy-file', team: null }, 'POLICY reload', `${policyFile} digest:${next.digest}`, 200, null, true).catch(() => {});
    } catch (err) {
      logger.error({ policy: policyFile, err: (err as Error).message }, 'policy reload refused; the last good policy stays in force');
      void audit?.control({ name: 'policy-file', team: null }, 'POLICY reload', policyFile, 400, 'ALT_POLICY_INVALID', true).catch(() => {});
    } finally {
      followContracts();
    }
  };
  try {
    // One reload at a time, in the order the changes came: a slow classifier load cannot let an older file win.
    let reloading = Promise.resolve();
    policyWatches.push(watchFile(policyFile, () => void (reloading = reloading.then(reloadPolicy))));
    followContracts();
  } catch (err) {
    logger.warn({ policy: policyFile, err: (err as Error).message }, 'policy hot reload unavailable');
  }
  // Settled spend reaches the store once a second, off the request path.
  const spendFlush = setInterval(() => {
    budgetService.flush().catch((err: unknown) => {
      logger.error({ err: (err as Error).message }, 'spend flush failed; retrying next interval');
    });
  }, 1000);
  spendFlush.unref();
  const deescalation = setInterval(() => void enforcement.deescalate(), 1000);
  deescalation.unref();
  const reclaim = startHeapReclaim(config.limits.heap_reclaim_mb, metrics);
  followed?.follower.reportWith({
    seenAgents: () => [
      ...enforcement
        .agents({ name: 'node-report', team: null })
        .filter((a) => a.last_seen !== null)
        .map((a) => ({ id: a.id, agent: a.id, team: a.team, kind: 'registered' as const, firstSeen: 0, lastSeen: Date.parse(a.last_seen!) })),
      ...(node?.shadowAgents() ?? []).map((w) => ({ id: w.id, agent: w.comm || (w.address ?? w.id), team: '', kind: 'shadow' as const, firstSeen: w.firstSeen, lastSeen: w.lastSeen })),
    ],
    bpfStatus: () => node?.status() ?? null,
  });
  ready = true;
  logger.info({ proxy_port: listener.port, control_port: controlPort, ops_port: opsPort, transparent_port: transparent?.port, policy: policyFile, credentials: credentials.configured() }, 'altrace agent started');

  return {
    proxyPort: listener.port,
    controlPort,
    opsPort,
    bootstrapToken,
    policyFile,
    credentialGaps: credentialGaps(config, credentials.configured()),
    stateDir: config.state_dir,
    logger,
    controlRoutes: control.routes,
    metricsRegistry: metrics.registry,
    get loops() {
      return loops;
    },
    async close() {
      ready = false;
      controlTls?.stop();
      siem.stop();
      for (const w of policyWatches) w.close();
      contractsWatch?.watch.close();
      // Requests held at approval gates are answered (expired) so the listener can drain.
      await approvals.close();
      await followed?.follower.close();
      node?.close();
      await pods?.stop();
      credentialWatch.close();
      vault?.close();
      await transparent?.close(500);
      await Promise.all([listener.close(2_000), loops?.close(2_000)]);
      await control.close();
      await proxy.close();
      // Spans of the last requests leave before the agent does.
      await spans?.close();
      await countDispatcher.close();
      clearInterval(spendFlush);
      clearInterval(deescalation);
      reclaim?.stop();
      await budgetService.flush();
      await audit?.close();
      await scanPool.close();
      store.close();
    },
  };
}

/** The node CA that terminates TLS for redirected connections; its X.509 library loads only here. */
async function openNodeCa(config: Config) {
  const { NodeCa } = await import('./node/ca.js');
  return config.node.ca_cert_file ? NodeCa.fromFiles(config.node.ca_cert_file, config.node.ca_key_file!) : NodeCa.open(join(config.state_dir, 'node-ca'));
}
