// The control plane's Kubernetes controllers, each switched on by its setting
// (docs/kubernetes.md): the altrace.io resources, the Cilium policies, the admission webhook
// and its trust bundles.
import { Resolver } from 'node:dns/promises';
import type { Logger, McpRegistry } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import { destinationSpecs } from '../node/providers.js';
import { readBundle } from '../policy/bundle.js';
import { resolvePolicyPath } from '../runtime.js';
import type { KillService } from '../services/kill-service.js';
import type { PolicyService } from '../services/policy-service.js';
import { AdmissionWebhook } from './admission-webhook.js';
import { CiliumController } from './cilium-controller.js';
import { KillResources, type AuditControl } from './kill-resources.js';
import { kubeConfigFor } from './kube-config.js';
import { ResourceController } from './resource-controller.js';
import { TrustBundles } from './trust-bundles.js';
import { FleetCaConfigMap } from './fleet-ca-configmap.js';
import { LeaderElection } from './leader-election.js';

export interface ControlPlaneHooks {
  /** This replica, as the leader Lease names its holder. */
  identity: string;
  policy: PolicyService;
  fleetDigest: () => string | null;
  /** The MCP registry of the fleet's policy now (null: none pushed): servers declaring pods get Cilium policies. */
  fleetMcpServers?: () => McpRegistry | null;
  kills: KillService;
  audit: AuditControl;
  /** The fleet CA certificate (PEM), published where kubernetes.fleet_ca_configmap says. */
  fleetCaPem: string;
}

export interface KubernetesControllers {
  resources: ResourceController | null;
  cilium: CiliumController | null;
  /** The fleet CA ConfigMap kept for the DaemonSet (kubernetes.fleet_ca_configmap). */
  fleetCa: FleetCaConfigMap | null;
  /** The Lease that decides which replica reconciles (null with leader_election.enabled false: each does). */
  leader: LeaderElection | null;
  /** The altrace-trust-bundle ConfigMaps, kept wherever kubernetes.webhook.trust_ca_file is set. */
  trustBundles: TrustBundles | null;
  webhook: { port: number; server: AdmissionWebhook; bundles: TrustBundles } | null;
  close(): Promise<void>;
}

export async function startKubernetesControllers(config: Config, logger: Logger, hooks: ControlPlaneHooks): Promise<KubernetesControllers> {
  const k = config.kubernetes;
  const kubeConfig = kubeConfigFor(k);
  const inactivityMs = k.watch_inactivity_s * 1000;
  const closers: (() => Promise<void>)[] = [];
  const out: KubernetesControllers = {
    resources: null,
    cilium: null,
    fleetCa: null,
    leader: null,
    trustBundles: null,
    webhook: null,
    close: async () => {
      for (const c of closers.reverse()) await c();
    },
  };
  // Every replica watches (a new leader starts warm) and serves the webhook; only the leader reconciles.
  const le = k.leader_election;
  let leading = !le.enabled;
  const reconcilers: { schedule(delayMs?: number): void }[] = [];
  const gate = () => leading;
  try {
    if (le.enabled) {
      out.leader = new LeaderElection({
        kubeConfig,
        logger,
        lease: le.lease,
        identity: hooks.identity,
        leaseDurationMs: le.lease_duration_s * 1000,
        renewDeadlineMs: le.renew_deadline_s * 1000,
        retryPeriodMs: le.retry_period_s * 1000,
        onChange: (now) => {
          leading = now;
          if (now) for (const r of reconcilers) r.schedule(0);
        },
      });
      closers.push(() => out.leader!.stop());
    }
    if (k.fleet_ca_configmap) {
      const published = new FleetCaConfigMap(kubeConfig, k.fleet_ca_configmap, hooks.fleetCaPem, logger, gate);
      reconcilers.push(published);
      closers.push(() => published.stop());
      published.start(k.resync_s * 1000 * 3);
      out.fleetCa = published;
    }
    if (k.resources) {
      const resources = new ResourceController({
        kubeConfig,
        logger,
        inactivityMs,
        policyName: k.policy_name,
        fallback: () => readBundle(resolvePolicyPath(config.policy)),
        currentDigest: hooks.fleetDigest,
        push: async (bundle) => {
          const before = hooks.fleetDigest();
          const pushed = await hooks.policy.commit(bundle, 'kubernetes');
          // The cluster's policy becoming the fleet's is a security event: in the audit log (and so the SIEM).
          if (pushed.digest !== before) await hooks.audit({ name: 'kubernetes', team: null }, 'APPLY AltracePolicy', `digest:${pushed.digest}`, 200, null);
          return pushed;
        },
        kills: new KillResources(hooks.kills, hooks.audit),
        resyncMs: k.resync_s * 1000,
        leading: gate,
      });
      reconcilers.push(resources);
      closers.push(() => resources.stop());
      await resources.start();
      out.resources = resources;
    }
    if (k.cilium.policies) {
      const c = k.cilium;
      const cilium = new CiliumController({
        kubeConfig,
        logger,
        inactivityMs,
        destinations: destinationSpecs(new Map(), c.destinations),
        dns: new Resolver({ timeout: 2000, tries: 2 }),
        minTtlS: config.node.resolve_min_ttl_s,
        maxTtlS: config.node.resolve_max_ttl_s,
        proxyPorts: c.proxy_ports,
        dnsLabels: c.dns_labels,
        localRedirect: c.local_redirect ? { namespace: c.local_redirect.namespace, service: c.local_redirect.service, port: c.local_redirect.port, backendLabels: c.local_redirect.backend_labels } : null,
        ...(hooks.fleetMcpServers ? { mcpServers: hooks.fleetMcpServers } : {}),
        leading: gate,
      });
      reconcilers.push(cilium);
      closers.push(() => cilium.stop());
      // A new fleet policy may declare or drop MCP server pods: reconcile within a second, not at the next resync.
      let digest = hooks.fleetDigest();
      const follow = setInterval(() => {
        const now = hooks.fleetDigest();
        if (now !== digest) (digest = now), cilium.schedule();
      }, 1000);
      follow.unref();
      closers.push(async () => clearInterval(follow));
      await cilium.start();
      out.cilium = cilium;
    }
    // The trust bundles serve pods with or without the webhook (a pod may mount its namespace's bundle itself).
    const w = k.webhook;
    const bundles = w.trust_ca_file ? new TrustBundles({ kubeConfig, logger, inactivityMs, caFile: w.trust_ca_file, leading: gate }) : null;
    if (bundles) {
      reconcilers.push(bundles);
      closers.push(() => bundles.stop());
      await bundles.start();
      out.trustBundles = bundles;
    }
    if (w.enabled && bundles) {
      const server = new AdmissionWebhook({ certFile: w.cert_file!, keyFile: w.key_file!, logger, proxyPort: w.proxy_port, namespace: (n) => bundles.namespace(n) });
      const port = await server.listen(w.host, w.port);
      closers.push(() => server.close());
      out.webhook = { port, server, bundles };
      logger.info({ port }, 'admission webhook listening');
    }
    // Started last: a replica that leads at once finds every reconciler registered.
    await out.leader?.start();
    return out;
  } catch (err) {
    await out.close();
    throw err;
  }
}
