import { readFileSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { Config } from '../config/config.js';
import { AltraceError } from '../errors.js';

/** The API server could not be configured: names what is missing. */
export class KubernetesConfigError extends AltraceError {
  constructor(message: string) {
    super('ALT_KUBERNETES_CONFIG', message);
  }
}

/**
 * How the agent reaches its API server: in a pod, the service account's own (what every node
 * agent uses); otherwise `kubernetes.api_server` with a bearer token read from a file (a
 * projected token, rotated by the kubelet: read again on each request).
 */
export function kubeConfigFor(k: Pick<Config['kubernetes'], 'api_server' | 'token_file' | 'ca_file' | 'insecure_skip_tls_verify'>): KubeConfig {
  const kc = new KubeConfig();
  if (!k.api_server) {
    if (!process.env.KUBERNETES_SERVICE_HOST) throw new KubernetesConfigError('kubernetes.enabled is true but this is not a pod (no KUBERNETES_SERVICE_HOST) and kubernetes.api_server is not set');
    kc.loadFromCluster();
    return kc;
  }
  if (!k.token_file) throw new KubernetesConfigError('kubernetes.api_server is set but kubernetes.token_file is not: the agent needs a bearer token');
  try {
    readFileSync(k.token_file, 'utf8');
  } catch (err) {
    throw new KubernetesConfigError(`kubernetes.token_file ${k.token_file}: ${(err as Error).message}`);
  }
  kc.loadFromOptions({
    clusters: [{ name: 'altrace', server: k.api_server, skipTLSVerify: k.insecure_skip_tls_verify, ...(k.ca_file ? { caFile: k.ca_file } : {}) }],
    // client-node's file auth provider re-reads the file every minute, as client-go does.
    users: [{ name: 'altrace', authProvider: { name: 'tokenFile', config: { tokenFile: k.token_file } } }],
    contexts: [{ name: 'altrace', cluster: 'altrace', user: 'altrace' }],
    currentContext: 'altrace',
  });
  return kc;
}

/**
 * One line for a failed API call: the status and the API server's own message (client-node's
 * ApiException puts code, message, body and headers on several lines), or a network failure's
 * cause (fetch says only "fetch failed").
 */
export function apiErrorText(err: unknown): string {
  const e = err as Error & { code?: unknown; body?: unknown; cause?: Error & { code?: string } };
  if (typeof e.code === 'number') {
    let body = e.body;
    if (typeof body === 'string') {
      try {
        body = JSON.parse(body);
      } catch {
        // Not JSON: said as it is.
      }
    }
    const said = typeof body === 'object' && body !== null ? (body as { message?: string }).message : typeof body === 'string' ? body : undefined;
    return `HTTP ${e.code}${said ? `: ${said}` : ` (${e.message.split('\n').find((l) => l.startsWith('Message: '))?.slice(9) ?? 'no message'})`}`;
  }
  return e.cause ? `${e.message}: ${e.cause.code ?? e.cause.message}` : String(e.message ?? err).split('\n')[0]!;
}
