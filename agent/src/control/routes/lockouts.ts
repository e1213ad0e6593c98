import type { AuthFailures } from '../../../../proxy/src/index.js';
import { ControlError } from '../../errors.js';
import type { ControlRoutes } from '../router.js';

/**
 * Sources locked out for failed operator tokens (limits.auth_failures_per_minute): listed, and
 * lifted by an admin. Held by this process (a control-plane replica locks out on its own).
 */
export function lockoutRoutes(routes: ControlRoutes, failures: AuthFailures): void {
  routes
    .add('GET', '/lockouts', 'admin', () => ({
      status: 200,
      body: { lockouts: failures.lockedOut().map((l) => ({ source: l.source, retry_after_s: Math.ceil(l.retryAfterMs / 1000) })) },
    }))
    .add('DELETE', '/lockouts/:source', 'admin', ({ params, auditTarget }) => {
      const source = decodeURIComponent(params.source!);
      auditTarget(`source:${source}`);
      if (!failures.clear(source)) throw new ControlError('ALT_NOT_FOUND', `no lockout of ${source}`, 'source');
      return { status: 200, body: { cleared: source } };
    });
}
