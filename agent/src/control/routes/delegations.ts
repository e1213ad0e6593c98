import type { DelegationService } from '../../services/delegation-service.js';
import type { ControlRoutes } from '../router.js';

export function delegationRoutes(routes: ControlRoutes, delegation: DelegationService): void {
  routes
    .add('POST', '/delegations', 'write', async ({ operator, body, auditTarget }) => {
      const b = await body();
      // Named before minting, so a refused delegation is recorded with the agent it was for.
      const aud = (b as { aud?: unknown } | null)?.aud;
      if (typeof aud === 'string') auditTarget(`agent:${aud}`);
      return { status: 201, body: delegation.mint(operator, b) };
    })
    .add('GET', '/delegations/root-key', 'read', () => ({ status: 200, body: { root_key: delegation.rootPublicKey } }));
}
