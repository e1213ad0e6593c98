import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { startControlPlane } from '../control-plane/replica.js';
import { UsageError } from '../errors.js';

const HELP = `altrace control-plane — run a fleet control-plane replica (docs/fleet.md)

Usage: altrace control-plane [--config FILE] [--ca-out FILE]

  --config FILE   YAML configuration (also ALTRACE_CONFIG), the same file format as altrace start
  --ca-out FILE   write the fleet CA certificate (PEM) here: nodes trust the control plane by it
                  (their fleet.ca_file)

Environment:
  ALTRACE_DATABASE_URL   postgres://user:pass@host:port/db (required); the schema is migrated at start
  ALTRACE_FLEET_CA_KEY   secret that seals the fleet CA's key in the database (required, 32+
                         characters, the same on every replica)
  ALTRACE_ADMIN_TOKEN    the first admin operator token (required while the fleet has none)

Serves the control API of a single node (listen.control_port, default 7070; the CLI talks to it
unchanged) for the whole fleet, and the node enrollment and stream endpoints over HTTP/2 + TLS
(fleet.listen_port, default 7443). Run two or more replicas on one database for availability.
Nodes follow it with: altrace start --control-plane https://HOST:7443 (ALTRACE_BOOTSTRAP_TOKEN from
altrace nodes token create).
`;

export async function controlPlaneCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' }, 'ca-out': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const databaseUrl = process.env.ALTRACE_DATABASE_URL;
  if (!databaseUrl) throw new UsageError('set ALTRACE_DATABASE_URL to the PostgreSQL database the control plane keeps its state in (postgres://user:pass@host:port/db)');
  const caKey = process.env.ALTRACE_FLEET_CA_KEY ?? '';
  const config = loadConfig({ file: values.config });
  const cp = await startControlPlane(config, { databaseUrl, caKey });
  if (values['ca-out']) writeFileSync(values['ca-out'], cp.caPem, { mode: 0o644 });
  const host = config.listen.host;
  process.stderr.write(
    [
      `altrace control plane running (replica ${cp.replica})`,
      `  control API  ${config.control.tls.enabled ? 'https' : 'http'}://${host}:${cp.controlPort}/api/v1`,
      `  node stream  https://${host}:${cp.fleetPort}   (nodes: altrace start --control-plane https://${host}:${cp.fleetPort})`,
      `  metrics      ${config.control.tls.enabled ? 'https' : 'http'}://${host}:${cp.controlPort}/metrics`,
      ...(values['ca-out'] ? [`  fleet CA     ${values['ca-out']}   (the nodes' fleet.ca_file)`] : []),
    ].join('\n') + '\n',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await cp.close();
  return 0;
}
