import type { EnforcementService } from '../../services/enforcement-service.js';
import { ControlError } from '../../errors.js';
import type { ControlRoutes } from '../router.js';
import type { Operator } from '../../services/operator.js';
import { isAdmin } from '../../services/team-scope.js';
import { shadowAgentJson, type NodeView } from './node.js';

/** Registered agents, and for an admin the shadow agents node enforcement has seen. */
function listAgents(operator: Operator, enforcement: EnforcementService, node: () => NodeView | null) {
  const registered: { id: string }[] = enforcement.agents(operator);
  const shadows = isAdmin(operator) ? (node()?.shadowAgents() ?? []).map(shadowAgentJson) : [];
  return [...registered, ...shadows];
}

export function agentRoutes(routes: ControlRoutes, enforcement: EnforcementService, node: () => NodeView | null = () => null): void {
  routes
    .add('GET', '/agents', 'read', ({ operator }) => ({ status: 200, body: { agents: listAgents(operator, enforcement, node) } }))
    .add('GET', '/agents/:id', 'read', ({ operator, params }) => {
      const agent = listAgents(operator, enforcement, node).find((a) => a.id === params.id);
      if (!agent) throw new ControlError('ALT_NOT_FOUND', `no agent ${params.id}`, 'id');
      return { status: 200, body: agent };
    })
    .add('PUT', '/agents/:id/level', 'write', async ({ operator, params, body, auditTarget }) => {
      auditTarget(`agent:${params.id}`);
      const l = await enforcement.setByOperator(operator, params.id!, await body());
      return { status: 200, body: { agent: l.agent, level: l.level, set_by: l.setBy, reason: l.reason, since: new Date(l.since).toISOString() } };
    });
}
