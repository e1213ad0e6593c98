import { enrollmentTokenView, nodeView, type FleetNodeService } from '../../services/fleet-node-service.js';
import type { ControlRoutes } from '../router.js';

export function fleetNodeRoutes(routes: ControlRoutes, nodes: FleetNodeService): void {
  // The router answers with the first declared route that matches, so /nodes/tokens comes before
  // /nodes/:id: a GET /nodes/:id added later must not take it. DELETE /nodes/tokens (no name) does
  // reach /nodes/:id, as it should: "tokens" is a valid node id.
  routes
    .add('GET', '/nodes/tokens', 'admin', async ({ operator }) => ({ status: 200, body: { tokens: (await nodes.listEnrollmentTokens(operator)).map(enrollmentTokenView) } }))
    .add('POST', '/nodes/tokens', 'admin', async ({ operator, body, auditTarget }) => {
      const b = (await body()) as { name?: unknown } | null;
      // Named before it is issued, so a refused issue is recorded with what it asked for.
      if (typeof b?.name === 'string') auditTarget(`enrollment-token:${b.name}`);
      const { token, view } = await nodes.createEnrollmentToken(operator, b);
      return { status: 201, body: { token, ...enrollmentTokenView(view) } };
    })
    .add('DELETE', '/nodes/tokens/:name', 'admin', async ({ operator, params, auditTarget }) => {
      auditTarget(`enrollment-token:${params.name}`);
      return { status: 200, body: { deleted: enrollmentTokenView(await nodes.deleteEnrollmentToken(operator, params.name!)) } };
    })
    .add('GET', '/nodes', 'admin', async ({ operator }) => ({ status: 200, body: { nodes: await nodes.listNodes(operator) } }))
    .add('DELETE', '/nodes/:id', 'admin', async ({ operator, params, auditTarget }) => {
      auditTarget(`node:${params.id}`);
      // The removed node's lag no longer means anything: it will not apply another change.
      return { status: 200, body: { removed: nodeView(await nodes.removeNode(operator, params.id!), null) } };
    });
}
