import type { Config } from './config/config.js';

/** The proxy's limits and upstream timeouts as the configuration sets them: the same on every data-plane loop. */
export function proxyLimits(config: Config) {
  return {
    maxBodyBytes: config.limits.max_body_bytes,
    maxJsonDepth: config.limits.max_json_depth,
    maxResponseBytes: config.limits.max_response_bytes,
    connectTimeoutMs: config.upstream.connect_timeout_ms,
    headersTimeoutMs: config.upstream.headers_timeout_ms,
    bodyTimeoutMs: config.upstream.body_timeout_ms,
  };
}
