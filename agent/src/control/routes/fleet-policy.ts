import { pushedView, type PolicyService } from '../../services/policy-service.js';
import type { ControlRoutes } from '../router.js';

/** A control-plane replica's fleet policy: PUT pushes a policy and its contracts, GET says which is in force. */
export function fleetPolicyRoutes(routes: ControlRoutes, policy: PolicyService): void {
  routes
    .add('GET', '/policy', 'read', ({ operator }) => ({ status: 200, body: pushedView(policy.get(operator)) }))
    .add('PUT', '/policy', 'admin', async ({ operator, body, auditTarget }) => {
      auditTarget('policy');
      const pushed = await policy.push(operator, await body());
      auditTarget(`policy:${pushed.digest}`);
      return { status: 200, body: pushedView(pushed) };
    });
}
