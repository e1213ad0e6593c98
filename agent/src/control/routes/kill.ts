import { killTarget, killView, parseKillRequest, releaseView, type KillService } from '../../services/kill-service.js';
import type { ControlRoutes } from '../router.js';

export function killRoutes(routes: ControlRoutes, kills: KillService): void {
  routes
    .add('GET', '/kill', 'read', ({ operator }) => ({ status: 200, body: { switches: kills.list(operator).map(killView) } }))
    .add('POST', '/kill', 'write', async ({ operator, body, auditTarget }) => {
      const req = parseKillRequest(await body());
      auditTarget(killTarget(req.scope, req.target));
      return { status: 201, body: killView(await kills.engage(operator, req)) };
    })
    .add('DELETE', '/kill/:scope', 'write', async ({ operator, params, auditTarget }) => {
      auditTarget(killTarget(params.scope!, undefined));
      return { status: 200, body: releaseView(await kills.release(operator, params.scope!, undefined)) };
    })
    .add('DELETE', '/kill/:scope/:target', 'write', async ({ operator, params, auditTarget }) => {
      auditTarget(killTarget(params.scope!, params.target));
      return { status: 200, body: releaseView(await kills.release(operator, params.scope!, params.target)) };
    });
}
