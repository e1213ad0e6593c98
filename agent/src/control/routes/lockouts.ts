import type { SourceFailures } from '../source-failures.js';
import { ControlError } from '../../errors.js';
import type { ControlRoutes } from '../router.js';

/**
 * Sources locked out for failed operator tokens (limits.auth_failures_per_minute): listed, and
 * lifted by an admin: this process's own on a single node, shared by every replica on a control plane.
 */
export function lockoutRoutes(routes: ControlRoutes, failures: SourceFailures): void {
  routes
    .add('GET', '/lockouts', 'admin', async () => ({
      status: 200,
      body: { lockouts: (await failures.lockedOut()).map((l) => ({ source: l.source, retry_after_s: Math.ceil(l.retryAfterMs / 1000) })) },
    }))
    .add('DELETE', '/lockouts/:source', 'admin', async ({ params, auditTarget }) => {
      // The router has decoded the parameter already: a key with % in it stays as it is.
      const source = params.source!;
      auditTarget(`source:${source}`);
      if (!(await failures.clear(source))) throw new ControlError('ALT_NOT_FOUND', `no lockout of ${source}`, 'source');
      return { status: 200, body: { cleared: source } };
    });
}
