import type { EnforcementService } from '../../enforcement.js';
import { ControlError } from '../../errors.js';
import type { ControlRoutes } from '../router.js';

export function agentRoutes(routes: ControlRoutes, enforcement: EnforcementService): void {
  routes
    .add('GET', '/agents', ({ operator }) => ({ status: 200, body: { agents: enforcement.agents(operator) } }))
    .add('GET', '/agents/:id', ({ operator, params }) => {
      const agent = enforcement.agents(operator).find((a) => a.id === params.id);
      if (!agent) throw new ControlError('ALT_NOT_FOUND', 404, `no agent ${params.id}`, 'id');
      return { status: 200, body: agent };
    })
    .add('PUT', '/agents/:id/level', async ({ operator, params, body }) => {
      const l = enforcement.setByOperator(operator, params.id!, await body());
      return { status: 200, body: { agent: l.agent, level: l.level, set_by: l.setBy, reason: l.reason, since: new Date(l.since).toISOString() } };
    });
}
