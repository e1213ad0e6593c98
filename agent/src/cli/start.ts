import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { watchConfigFile } from '../config/watch-config.js';
import { Gauge } from 'prom-client';
import type { CredentialSupply } from '../credentials/supply.js';
import { startAgent } from '../runtime.js';

const HELP = `altrace start — run the node agent

Usage: altrace start [--config FILE] [--control-plane URL[,URL...]]

  --config FILE          YAML configuration (also ALTRACE_CONFIG); every setting has an
                         ALTRACE_* environment override (docs/reference.md, "Configuration")
  --control-plane URL    follow a fleet control plane (fleet.control_plane; several replicas
                         comma-separated): keys, operator tokens, kill switches, levels and budgets
                         come from it, and this node's control API only reads them. Needs
                         fleet.ca_file (ALTRACE_FLEET_CA_FILE) and, to enroll the first time,
                         ALTRACE_BOOTSTRAP_TOKEN (altrace nodes token create; or
                         ALTRACE_BOOTSTRAP_TOKEN_FILE, e.g. the node's projected service-account
                         token where the control plane accepts those). Without it: a single
                         node with its own SQLite state (docs/fleet.md)

Runs the governed proxy (default 127.0.0.1:8080) and the control API (127.0.0.1:7070),
with state in ./.altrace and the policy in policies/default.yaml.
`;

/** Said at start, not at the first 503: which providers cannot be called yet, and what supplies each. */
function credentialWarning(gaps: CredentialSupply[]): string[] {
  if (gaps.length === 0) return [];
  const width = Math.max(...gaps.map((g) => g.upstream.length)) + 2;
  return [
    `warning: no credential for ${gaps.map((g) => g.upstream).join(', ')}: their requests are refused (503 ALT_CREDENTIAL_MISSING).`,
    "  Set the variable in the agent's environment, or store the key with the command (key on stdin), then restart:",
    ...gaps.map((g) => `  ${g.upstream.padEnd(width)}${g.env}${g.command ? `   or: ${g.command}` : ''}`),
  ];
}

export async function startCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'control-plane': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const cp = values['control-plane'];
  const config = loadConfig({ file: values.config, env: cp === undefined ? process.env : { ...process.env, ALTRACE_CONTROL_PLANE: cp } });
  const agent = await startAgent(config);
  const host = config.listen.host;
  const lines = [
    'altrace agent running',
    `  proxy        http://${config.listen.proxy_host ?? host}:${agent.proxyPort}   (point your SDK's base URL here)`,
    `  control API  ${config.control.tls.enabled ? 'https' : 'http'}://${host}:${agent.controlPort}/api/v1`,
    `  metrics      ${config.control.tls.enabled ? 'https' : 'http'}://${host}:${agent.controlPort}/metrics`,
    ...(agent.opsPort !== undefined ? [`  ops          http://${config.listen.ops_host ?? host}:${agent.opsPort}/metrics   (/healthz, /readyz, /metrics only)`] : []),
    `  state        ${config.state_dir}`,
    ...(config.fleet.control_plane ? [`  fleet        following ${config.fleet.control_plane} (on stale: ${config.fleet.on_stale} after ${config.fleet.max_staleness_s} s)`] : []),
    `  policy       ${agent.policyFile}`,
  ];
  if (agent.bootstrapToken) {
    lines.push(`  admin token  ${agent.bootstrapToken}`, `               (shown once; also saved to ${config.state_dir}/admin.token, mode 0600)`);
  }
  lines.push(...credentialWarning(agent.credentialGaps));
  process.stderr.write(lines.join('\n') + '\n');
  const file = values.config ?? process.env.ALTRACE_CONFIG;
  let configWatch: { close(): void } | null = null;
  if (file) {
    const pending = new Gauge({ name: 'altrace_config_restart_pending', help: '1 while the configuration file on disk differs from what the agent started with (it applies at the next restart)', registers: [agent.metricsRegistry] });
    configWatch = watchConfigFile(file, config, cp === undefined ? process.env : { ...process.env, ALTRACE_CONTROL_PLANE: cp }, agent.logger, (p) => pending.set(p ? 1 : 0));
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  configWatch?.close();
  await agent.close();
  return 0;
}
