// control.tls made real at start: the server certificate (the operator's files, or one the
// control CA issues), the CA client certificates chain to, and the revocation state.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../../proxy/src/index.js';
import type { Config } from '../config/config.js';
import type { FleetCa } from '../control-plane/fleet-ca.js';
import { ConfigError } from '../errors.js';
import type { ServiceStore } from '../state/service-store.js';
import { ControlTls } from './control-tls.js';

const SERVER_CERT_MS = 365 * 86_400_000;

function read(file: string, field: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${field} ${file}: ${(err as Error).message}`, field);
  }
}

/**
 * The control API's TLS, or null when control.tls is off. `fleetCa` is the control plane's CA
 * (a single node uses its own, made in <state_dir>/control-ca).
 */
export async function controlTlsFor(config: Config, store: Pick<ServiceStore, 'listOperatorCertificates'>, logger: Logger, fleetCa: FleetCa | null): Promise<ControlTls | null> {
  const t = config.control.tls;
  if (!t.enabled) return null;
  const ca = fleetCa ?? (await (await import('../control-plane/fleet-ca.js')).FleetCa.openLocal(join(config.state_dir, 'control-ca')));
  const names = [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...(config.listen.host !== '0.0.0.0' && config.listen.host !== '::' ? [config.listen.host] : []), ...config.fleet.server_names])];
  const server = t.cert_file ? { cert: read(t.cert_file, 'control.tls.cert_file'), key: read(t.key_file!, 'control.tls.key_file') } : await ca.serverCredentials(names, SERVER_CERT_MS);
  const external = t.client_ca_file !== undefined;
  const tls = new ControlTls({
    clientAuth: t.client_auth,
    cert: server.cert,
    key: server.key,
    clientCa: external ? read(t.client_ca_file!, 'control.tls.client_ca_file') : ca.certPem,
    ca: external ? null : ca,
    ...(t.crl_file ? { crlFile: t.crl_file } : {}),
    store,
    logger,
  });
  await tls.start();
  logger.info({ client_auth: t.client_auth, client_ca: external ? t.client_ca_file : 'control CA', server_cert: t.cert_file ?? 'issued by the control CA' }, 'control API over TLS');
  return tls;
}
