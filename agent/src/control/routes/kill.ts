import { killView, releaseView, type KillService } from '../../kill.js';
import type { ControlRoutes } from '../router.js';

export function killRoutes(routes: ControlRoutes, kills: KillService): void {
  routes
    .add('GET', '/kill', ({ operator }) => ({ status: 200, body: { switches: kills.list(operator).map(killView) } }))
    .add('POST', '/kill', async ({ operator, body }) => ({ status: 201, body: killView(kills.engage(operator, await body())) }))
    .add('DELETE', '/kill/:scope', ({ operator, params }) => ({ status: 200, body: releaseView(kills.release(operator, params.scope!, undefined)) }))
    .add('DELETE', '/kill/:scope/:target', ({ operator, params }) => ({ status: 200, body: releaseView(kills.release(operator, params.scope!, params.target)) }));
}
